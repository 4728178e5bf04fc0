package dev.delora.djl.hf.decoder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.delora.djl.io.Safetensors;
import dev.delora.fixtures.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Weight loading is strict (missing and unexpected tensors are named), ignores the rotary buffers and a tied head
 * equal to the embedding, and reads sharded checkpoints; the KV cache also works for chunks of several tokens.
 */
class DecoderLoadingTest {

    private static Path folder(Path dir, String configFrom, String weightsFrom, Consumer edit) throws Exception {
        Files.createDirectories(dir);
        JsonObject o = JsonParser.parseString(Fixtures.text("decoders/" + configFrom + "/config.json"))
                .getAsJsonObject();
        edit.apply(o);
        Files.writeString(dir.resolve("config.json"), o.toString());
        Files.copy(Fixtures.path("decoders/" + weightsFrom + "/model.safetensors"), dir.resolve("model.safetensors"));
        return dir;
    }

    private interface Consumer {
        void apply(JsonObject o);
    }

    private static String refusal(Path dir) {
        try (NDManager m = NDManager.newBaseManager()) {
            return assertThrows(IllegalArgumentException.class, () -> DecoderModels.causalLm(dir, m))
                    .getMessage();
        }
    }

    @Test
    void namesMissingAndUnexpectedTensors(@TempDir Path tmp) throws Exception {
        String untied = refusal(folder(
                tmp.resolve("a"),
                "tiny-llama-tied",
                "tiny-llama-tied",
                o -> o.addProperty("tie_word_embeddings", false)));
        assertTrue(
                untied.contains("missing tensors [lm_head.weight]") && untied.contains("tie_word_embeddings"), untied);
        String biases = refusal(folder(tmp.resolve("b"), "tiny-llama-tied", "tiny-qwen2", o -> {}));
        assertTrue(biases.contains("unexpected tensors [model.layers.0.self_attn.k_proj.bias"), biases);
        String tiedButDifferent = refusal(
                folder(tmp.resolve("c"), "tiny-llama", "tiny-llama", o -> o.addProperty("tie_word_embeddings", true)));
        assertTrue(
                tiedButDifferent.contains("lm_head.weight differs from model.embed_tokens.weight"), tiedButDifferent);
    }

    @Test
    void ignoresRotaryBuffersAndTiedCopiesAndReadsShards(@TempDir Path tmp) throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> golden = Safetensors.load(m, Fixtures.path("decoders/golden.safetensors"));
            NDList in =
                    new NDList(golden.get("tiny-llama-tied/input_ids"), golden.get("tiny-llama-tied/attention_mask"));
            Map<String, NDArray> w = Safetensors.load(m, Fixtures.path("decoders/tiny-llama-tied/model.safetensors"));
            // shard 1: the embedding, a tied lm_head copy and a rotary buffer; shard 2: the rest
            Map<String, NDArray> first = new LinkedHashMap<>();
            Map<String, NDArray> second = new LinkedHashMap<>();
            w.forEach((k, v) -> (k.startsWith("model.embed") ? first : second).put(k, v));
            first.put("lm_head.weight", w.get("model.embed_tokens.weight"));
            first.put("model.layers.0.self_attn.rotary_emb.inv_freq", golden.get("tiny-llama-tied/inv_freq"));
            Path dir = tmp.resolve("sharded");
            Files.createDirectories(dir);
            Files.copy(Fixtures.path("decoders/tiny-llama-tied/config.json"), dir.resolve("config.json"));
            Safetensors.write(dir.resolve("model-00001-of-00002.safetensors"), first, Map.of());
            Safetensors.write(dir.resolve("model-00002-of-00002.safetensors"), second, Map.of());
            JsonObject map = new JsonObject();
            first.keySet().forEach(k -> map.addProperty(k, "model-00001-of-00002.safetensors"));
            second.keySet().forEach(k -> map.addProperty(k, "model-00002-of-00002.safetensors"));
            JsonObject index = new JsonObject();
            index.add("weight_map", map);
            Files.writeString(dir.resolve("model.safetensors.index.json"), index.toString());

            DecoderModels.Loaded loaded = DecoderModels.causalLm(dir, m);
            assertEquals(w.size(), loaded.report().loadedKeys().size());
            assertEquals(
                    GenerationConfig.none().eosTokenIds().size() + 1,
                    loaded.generation().eosTokenIds().size());
            NDArray logits = loaded.block()
                    .forward(new ParameterStore(m, false), in, false)
                    .head();
            float d =
                    golden.get("tiny-llama-tied/logits").sub(logits).abs().max().getFloat();
            assertTrue(d <= 1e-4f, "max |diff| " + d);
        }
    }

    @Test
    void cacheOfAChunkEqualsTheFullForward() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> golden = Safetensors.load(m, Fixtures.path("decoders/golden.safetensors"));
            NDArray ids = golden.get("tiny-qwen2/input_ids");
            NDArray mask = golden.get("tiny-qwen2/attention_mask");
            NDArray pos = golden.get("tiny-qwen2/position_ids");
            CausalLm lm = DecoderModels.causalLm(Fixtures.dir("decoders/tiny-qwen2"), m)
                    .block();
            ParameterStore ps = new ParameterStore(m, false);
            NDArray full = lm.forward(ps, ids, mask, pos, null, false).logits();
            CausalLm.Output head = lm.forward(ps, ids.get(":, :4"), mask.get(":, :4"), pos.get(":, :4"), null, false);
            assertEquals(4, head.cache().length());
            assertEquals(2, head.cache().layers());
            CausalLm.Output tail = lm.forward(ps, ids.get(":, 4:"), mask, pos.get(":, 4:"), head.cache(), false);
            assertEquals(7, tail.cache().length());
            float d = full.get(":, 4:, :").sub(tail.logits()).abs().max().getFloat();
            assertTrue(d <= 1e-5f, "max |diff| " + d);
            NDArray k0 = tail.cache().keys().get(0);
            assertEquals(new ai.djl.ndarray.types.Shape(2, 2, 7, 8), k0.getShape());
        }
    }
}
