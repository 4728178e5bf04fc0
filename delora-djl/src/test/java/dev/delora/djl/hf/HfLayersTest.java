package dev.delora.djl.hf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.delora.fixtures.Fixtures;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Pieces of the encoder that the transformers parity fixtures do not reach. */
class HfLayersTest {

    @Test
    void tanhGeluEqualsTheClosedForm() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] xs = {-6f, -2.5f, -1f, -0.3f, 0f, 0.2f, 1f, 1.7f, 3f, 8f};
            float[] y = HfLayers.act("gelu_new", m.create(xs)).toFloatArray();
            for (int i = 0; i < xs.length; i++) {
                double x = xs[i];
                // transformers' NewGELUActivation, in double precision
                double expected = 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
                assertEquals(expected, y[i], 1e-6 * Math.max(1, Math.abs(expected)), "gelu_new(" + x + ")");
            }
        }
    }

    /**
     * A forward pass leaves the same number of arrays in the step's manager whatever the depth: each layer's
     * intermediates are freed when the layer returns, not when the step ends. Backward still works afterwards.
     */
    @Test
    void layerIntermediatesDoNotAccumulateInTheStepManager() throws Exception {
        assertEquals(arraysLeftByTrainingForward(1), arraysLeftByTrainingForward(4));
    }

    private static int arraysLeftByTrainingForward(int layers) throws Exception {
        JsonObject json = JsonParser.parseString(Files.readString(Fixtures.path("hf/tiny-roberta/config.json")))
                .getAsJsonObject();
        json.addProperty("num_hidden_layers", layers);
        HfConfig cfg = HfConfig.fromJson(json);
        try (NDManager model = NDManager.newBaseManager()) {
            HfSequenceClassifier block = new HfSequenceClassifier(cfg);
            HfModels.initialize(block, cfg, model);
            block.getParameters().valueAt(0).getArray().setRequiresGradient(true);
            try (NDManager step = NDManager.newBaseManager();
                    GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray ids = step.randomInteger(3, 90, new Shape(2, 7), DataType.INT64);
                NDArray mask = step.ones(new Shape(2, 7), DataType.INT64);
                NDArray logits = block.forward(new ParameterStore(step, false), new NDList(ids, mask), true)
                        .head();
                int left = resources(step);
                gc.backward(logits.square().sum());
                NDArray grad = block.getParameters().valueAt(0).getArray().getGradient();
                assertTrue(grad.abs().sum().getFloat() > 0, "the word embeddings got a gradient");
                return left;
            }
        }
    }

    private static int resources(NDManager manager) throws ReflectiveOperationException {
        Field f = BaseNDManager.class.getDeclaredField("resources");
        f.setAccessible(true);
        return ((Map<?, ?>) f.get(manager)).size();
    }
}
