package dev.delora.djl.hf.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.delora.djl.hf.decoder.DecoderModels;
import dev.delora.djl.io.Safetensors;
import dev.delora.fixtures.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link GgufConversion} on {@code fixtures/gguf/tiny-llama.gguf} against the reference converter's output
 * ({@code fixtures/gguf/hf}, {@code tensors.safetensors}) and transformers' logits of that folder
 * ({@code golden.safetensors}), with the tokenizer ids of the {@code tokenizers} library ({@code expected.json}).
 */
class GgufConversionTest {

    @TempDir
    static Path tmp;

    static Path out;

    @BeforeAll
    static void convert() throws Exception {
        out = tmp.resolve("tiny-llama-hf");
        GgufConversion.toHfFolder(GgufReaderTest.GGUF, out);
    }

    private static JsonObject json(Path f) throws Exception {
        return JsonParser.parseString(Files.readString(f)).getAsJsonObject();
    }

    @Test
    void writesTheReferenceFiles() throws Exception {
        try (var s = Files.list(out)) {
            assertEquals(
                    java.util.Set.of("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"),
                    java.util.Set.copyOf(s.map(p -> p.getFileName().toString()).toList()));
        }
        Path ref = Fixtures.path("gguf/hf");
        for (String name : new String[] {"config.json", "tokenizer.json", "tokenizer_config.json"}) {
            assertEquals(json(ref.resolve(name)), json(out.resolve(name)), name);
        }
        JsonObject cfg = json(out.resolve("config.json"));
        assertEquals(1e-6f, cfg.get("rms_norm_eps").getAsFloat());
        assertTrue(json(out.resolve("tokenizer_config.json"))
                .get("chat_template")
                .getAsString()
                .startsWith("{% for message in messages %}"));
    }

    @Test
    void tensorsEqualGgufPyDequantizedAndUnpermuted() throws Exception {
        try (Safetensors.Reader got = Safetensors.open(out.resolve("model.safetensors"));
                Safetensors.Reader want = Safetensors.open(Fixtures.path("gguf/tensors.safetensors"))) {
            assertEquals(want.tensors().keySet(), got.tensors().keySet());
            assertEquals(Map.of("format", "pt"), got.metadata());
            for (String name : want.tensors().keySet()) {
                assertEquals(
                        want.tensors().get(name).shape(),
                        got.tensors().get(name).shape(),
                        name);
                assertEquals(want.readRaw(name), got.readRaw(name), name + " bytes");
            }
        }
    }

    @Test
    void convertedFolderGivesTransformersLogits() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> golden = Safetensors.load(m, Fixtures.path("gguf/golden.safetensors"));
            DecoderModels.Loaded loaded = DecoderModels.causalLm(out, m);
            NDArray logits = loaded.block()
                    .forward(
                            new ParameterStore(m, false),
                            new NDList(golden.get("input_ids"), golden.get("attention_mask")),
                            false)
                    .head();
            NDArray want = golden.get("logits");
            assertEquals(want.getShape(), logits.getShape());
            float d = want.sub(logits).abs().max().getFloat();
            System.out.printf("gguf tiny-llama logits: max |diff| vs transformers %.3g%n", d);
            assertTrue(d <= 1e-4f, "max |diff| " + d);
            assertEquals(2L, loaded.generation().eosTokenIds().get(0).longValue());
        }
    }

    @Test
    void builtTokenizerEncodesAsTheTokenizersLibrary() throws Exception {
        JsonObject expected = json(Fixtures.path("gguf/expected.json")).getAsJsonObject("tokens");
        try (HuggingFaceTokenizer tok =
                HuggingFaceTokenizer.newInstance(out.resolve("tokenizer.json"), Map.of("addSpecialTokens", "false"))) {
            for (Map.Entry<String, JsonElement> e : expected.entrySet()) {
                JsonArray ids = e.getValue().getAsJsonArray();
                long[] want = new long[ids.size()];
                for (int i = 0; i < want.length; i++) {
                    want[i] = ids.get(i).getAsLong();
                }
                assertArrayEquals(want, tok.encode(e.getKey()).getIds(), e.getKey());
            }
        }
    }
}
