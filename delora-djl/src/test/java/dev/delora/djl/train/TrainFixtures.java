package dev.delora.djl.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.delora.fixtures.Fixtures;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.Map;

/** Loads the golden vectors written by {@code src-test-fixtures/parity/training.py}. */
final class TrainFixtures {

    private TrainFixtures() {}

    static Map<String, NDArray> tensors(NDManager manager, String name) {
        try (InputStream in = Files.newInputStream(Fixtures.path("train/" + name))) {
            NDList list = NDList.decode(manager, in);
            Map<String, NDArray> out = new HashMap<>();
            for (NDArray a : list) {
                out.put(a.getName(), a);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonObject json(String name) {
        return JsonParser.parseString(Fixtures.text("train/" + name)).getAsJsonObject();
    }

    /** A trainable parameter holding a copy of {@code value}. */
    static Parameter parameter(String name, NDArray value) {
        Parameter p =
                Parameter.builder().setName(name).setType(Parameter.Type.WEIGHT).build();
        NDArray copy = value.duplicate();
        copy.setRequiresGradient(true);
        p.setArray(copy);
        return p;
    }
}
