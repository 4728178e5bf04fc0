package dev.delora.djl.hf.decoder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.delora.djl.tree.BlockTree;
import dev.delora.fixtures.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Config reading is strict: unsupported values are refused with the file, the field, the value and the choices. */
class DecoderConfigTest {

    private static final String SRC = "some/config.json";

    private static JsonObject config(String model) {
        return JsonParser.parseString(Fixtures.text("decoders/" + model + "/config.json"))
                .getAsJsonObject();
    }

    private static void refused(String model, Consumer<JsonObject> edit, String... fragments) {
        JsonObject o = config(model);
        edit.accept(o);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DecoderConfig.fromJson(o, SRC));
        assertTrue(e.getMessage().startsWith(SRC + ": "), e.getMessage());
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "'" + f + "' missing from: " + e.getMessage());
        }
    }

    @Test
    void readsTheFixtures() {
        DecoderConfig llama = DecoderConfig.fromJson(config("tiny-llama"), SRC);
        assertEquals("LlamaForCausalLM", llama.architecture());
        assertEquals(2, llama.numKeyValueHeads());
        assertEquals(8, llama.headDim());
        assertEquals(2, llama.kvGroups());
        assertNull(llama.ropeScaling());
        DecoderConfig qwen = DecoderConfig.fromJson(config("tiny-qwen2"), SRC);
        assertTrue(qwen.qkvBias() && !qwen.outputBias() && !qwen.mlpBias() && qwen.tieWordEmbeddings());
        assertEquals(1e6, qwen.ropeTheta());
        RopeScaling rs =
                DecoderConfig.fromJson(config("tiny-llama-rope-llama3"), SRC).ropeScaling();
        assertEquals(new RopeScaling("llama3", 8, 1, 4, 64), rs);
    }

    @Test
    void refusesUnsupportedValues() {
        refused(
                "tiny-llama",
                o -> o.getAsJsonObject().add("rope_scaling", JsonParser.parseString("{\"rope_type\":\"yarn\"}")),
                "rope_scaling.rope_type",
                "'yarn'",
                "llama3");
        refused(
                "tiny-llama",
                o -> o.add("rope_scaling", JsonParser.parseString("{\"type\":\"linear\",\"factor\":2.0}")),
                "rope_scaling.type",
                "'linear'");
        refused(
                "tiny-llama",
                o -> o.add("rope_scaling", JsonParser.parseString("{\"rope_type\":\"llama3\",\"factor\":8.0}")),
                "rope_scaling.low_freq_factor",
                "missing");
        refused("tiny-llama", o -> o.addProperty("hidden_act", "gelu"), "hidden_act", "'gelu'", "silu");
        refused("tiny-qwen2", o -> o.addProperty("use_sliding_window", true), "use_sliding_window", "true", "false");
        refused(
                "tiny-qwen2",
                o -> o.add("layer_types", JsonParser.parseString("[\"sliding_attention\",\"full_attention\"]")),
                "layer_types",
                "sliding_attention");
        refused("tiny-llama", o -> o.addProperty("model_type", "gpt2"), "model_type", "'gpt2'", "llama, qwen2");
        refused(
                "tiny-llama",
                o -> {
                    JsonArray a = new JsonArray();
                    a.add("LlamaForSequenceClassification");
                    o.add("architectures", a);
                },
                "architectures",
                "LlamaForSequenceClassification",
                "LlamaForCausalLM");
        refused("tiny-llama", o -> o.addProperty("partial_rotary_factor", 0.5), "partial_rotary_factor", "0.5");
        refused("tiny-llama", o -> o.addProperty("num_attention_heads", "4"), "num_attention_heads", "\"4\"");
        refused("tiny-llama", o -> o.addProperty("num_key_value_heads", 3), "num_key_value_heads 3");
        refused("tiny-llama", o -> o.addProperty("num_hidden_layers", 1.5), "num_hidden_layers", "1.5");
        refused(
                "tiny-llama",
                o -> {
                    o.addProperty("model_type", "mistral");
                    o.add("architectures", JsonNull.INSTANCE);
                    o.addProperty("sliding_window", 4096);
                },
                "sliding_window",
                "4096",
                "null");
    }

    @Test
    void acceptsMistralWithoutWindowAndLlamaBiases() {
        JsonObject mistral = config("tiny-llama");
        mistral.addProperty("model_type", "mistral");
        mistral.remove("architectures");
        mistral.add("sliding_window", JsonNull.INSTANCE);
        assertEquals("MistralForCausalLM", DecoderConfig.fromJson(mistral, SRC).architecture());

        JsonObject biased = config("tiny-llama");
        biased.addProperty("attention_bias", true);
        biased.addProperty("mlp_bias", true);
        DecoderConfig cfg = DecoderConfig.fromJson(biased, SRC);
        try (NDManager m = NDManager.newBaseManager()) {
            CausalLm lm = new CausalLm(cfg);
            DecoderModels.initialize(lm, m);
            Set<String> keys = BlockTree.parameters(lm).keySet();
            for (String k : List.of("q_proj", "k_proj", "v_proj", "o_proj")) {
                assertTrue(keys.contains("model.layers.1.self_attn." + k + ".bias"), k);
            }
            for (String k : List.of("gate_proj", "up_proj", "down_proj")) {
                assertTrue(keys.contains("model.layers.1.mlp." + k + ".bias"), k);
            }
        }
    }

    @Test
    void loadNamesTheFileAndReadsGenerationConfig(@TempDir Path tmp) throws Exception {
        JsonObject o = config("tiny-llama");
        o.addProperty("hidden_act", "relu");
        Files.writeString(tmp.resolve("config.json"), o.toString());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DecoderConfig.load(tmp));
        assertTrue(e.getMessage().startsWith(tmp.resolve("config.json") + ": hidden_act"), e.getMessage());

        GenerationConfig fromFixture = GenerationConfig.load(Fixtures.dir("decoders/tiny-llama"));
        assertEquals(new GenerationConfig(1, List.of(2), 0, fromFixture.source()), fromFixture);
        assertTrue(fromFixture.source().endsWith(GenerationConfig.FILE));
        assertTrue(fromFixture.isEos(2) && !fromFixture.isEos(0));
        // without generation_config.json the ids come from config.json; eos may be a list
        o.add("eos_token_id", JsonParser.parseString("[2, 7]"));
        Files.writeString(tmp.resolve("config.json"), o.toString());
        GenerationConfig fromConfig = GenerationConfig.load(tmp);
        assertEquals(List.of(2, 7), fromConfig.eosTokenIds());
        assertEquals(0, fromConfig.padTokenId());
    }
}
