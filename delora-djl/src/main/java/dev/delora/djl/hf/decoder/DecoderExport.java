package dev.delora.djl.hf.decoder;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import dev.delora.djl.io.AtomicFiles;
import dev.delora.djl.io.Safetensors;
import dev.delora.djl.peft.AdaptedLinear;
import dev.delora.djl.tree.BlockTree;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a plain (merged or never adapted) {@link CausalLm} as a Hugging Face model folder that
 * {@code AutoModelForCausalLM.from_pretrained} and {@link DecoderModels#causalLm} load with the same logits:
 * {@code config.json}, {@code model.safetensors} (transformers' tensor names and shapes, float32, metadata
 * {@code {"format": "pt"}}; a tied model has no {@code lm_head.weight}), {@code generation_config.json} when given,
 * and the tokenizer files of a tokenizer folder when given.
 *
 * <pre>{@code
 * DecoderModels.Loaded m = DecoderModels.causalLm(folder, manager);
 * AdaptedModel peft = AdaptedModel.inject(m.block(), lora);
 * // ... train ...
 * DecoderExport.save((CausalLm) peft.mergeAndUnload(), m.config(), m.generation(), folder, out);
 * }</pre>
 *
 * <p>The folder is written crash-safely as a whole ({@link AtomicFiles#writeFolder}): a reader sees the old folder or
 * the complete new one. An existing output folder is replaced as a whole, so it must be empty or a model folder
 * (holding a {@code config.json}).
 */
public final class DecoderExport {

    /** The tokenizer files copied from the tokenizer folder when present. */
    public static final List<String> TOKENIZER_FILES =
            List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json");

    private DecoderExport() {}

    /**
     * Exports a causal LM.
     *
     * @param block the model without adapters (call {@code AdaptedModel.mergeAndUnload()} first)
     * @param config its configuration (written as {@code config.json} with transformers' field names)
     * @param generation the special tokens, written as {@code generation_config.json} and into {@code config.json},
     *     or {@code null} for neither
     * @param tokenizerDir a folder whose tokenizer files ({@link #TOKENIZER_FILES}, those present) are copied, or
     *     {@code null}
     * @param dir the output folder (created, or replaced as a whole)
     * @throws IOException if writing fails (the output folder is then as it was)
     * @throws IllegalArgumentException if the block still holds adapters (the message names one adapted module), if
     *     its parameters do not fit the config, or if {@code dir} is a non-empty folder without a
     *     {@code config.json}
     */
    public static void save(
            CausalLm block, DecoderConfig config, GenerationConfig generation, Path tokenizerDir, Path dir)
            throws IOException {
        Map<String, NDArray> tensors = tensors(block, config);
        AtomicFiles.requireReplaceableModelFolder(dir, "export");
        String configText = pretty(configJson(config, generation));
        String generationText = generation == null ? null : pretty(generationJson(generation));
        AtomicFiles.writeFolder(dir, out -> {
            AtomicFiles.writeString(out.resolve("config.json"), configText);
            if (generationText != null) {
                AtomicFiles.writeString(out.resolve(GenerationConfig.FILE), generationText);
            }
            if (tokenizerDir != null) {
                for (String name : TOKENIZER_FILES) {
                    Path f = tokenizerDir.resolve(name);
                    if (Files.isRegularFile(f)) {
                        Files.copy(f, out.resolve(name));
                    }
                }
            }
            Safetensors.write(out.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        });
    }

    private static Map<String, NDArray> tensors(CausalLm block, DecoderConfig config) {
        for (Map.Entry<String, Block> e : BlockTree.modules(block).entrySet()) {
            if (e.getValue() instanceof AdaptedLinear) {
                throw new IllegalArgumentException("The model still holds adapters (e.g. on '" + e.getKey()
                        + "'); call AdaptedModel.mergeAndUnload() (or unload()) before exporting it as a plain "
                        + "Hugging Face model");
            }
        }
        if (!block.config().equals(config)) {
            throw new IllegalArgumentException(
                    "The config does not describe this model: the block was built from " + block.config());
        }
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : BlockTree.parameters(block).entrySet()) {
            tensors.put(e.getKey(), e.getValue().getArray());
        }
        return tensors;
    }

    /**
     * Returns the {@code config.json} content transformers reads for a configuration.
     *
     * @param c the configuration
     * @param generation special tokens to include ({@code bos_token_id}, {@code eos_token_id},
     *     {@code pad_token_id}), or {@code null}
     * @return the JSON object (transformers' field names; reading it back gives an equal {@link DecoderConfig})
     */
    public static JsonObject configJson(DecoderConfig c, GenerationConfig generation) {
        JsonObject o = new JsonObject();
        JsonArray archs = new JsonArray();
        archs.add(c.architecture());
        o.add("architectures", archs);
        o.addProperty("model_type", c.modelType());
        o.addProperty("vocab_size", c.vocabSize());
        o.addProperty("hidden_size", c.hiddenSize());
        o.addProperty("intermediate_size", c.intermediateSize());
        o.addProperty("num_hidden_layers", c.numHiddenLayers());
        o.addProperty("num_attention_heads", c.numAttentionHeads());
        o.addProperty("num_key_value_heads", c.numKeyValueHeads());
        o.addProperty("head_dim", c.headDim());
        o.addProperty("hidden_act", "silu");
        // Float, not double: 1e-6f is written as 1.0E-6, which reads back as the same float
        o.addProperty("rms_norm_eps", Float.valueOf(c.rmsNormEps()));
        o.addProperty("rope_theta", c.ropeTheta());
        if (c.ropeScaling() == null) {
            o.add("rope_scaling", JsonNull.INSTANCE);
        } else {
            RopeScaling r = c.ropeScaling();
            JsonObject rs = new JsonObject();
            rs.addProperty("rope_type", r.ropeType());
            rs.addProperty("factor", r.factor());
            rs.addProperty("low_freq_factor", r.lowFreqFactor());
            rs.addProperty("high_freq_factor", r.highFreqFactor());
            rs.addProperty("original_max_position_embeddings", r.originalMaxPositionEmbeddings());
            o.add("rope_scaling", rs);
        }
        o.addProperty("tie_word_embeddings", c.tieWordEmbeddings());
        switch (c.modelType()) {
            case "llama" -> {
                o.addProperty("attention_bias", c.outputBias());
                o.addProperty("mlp_bias", c.mlpBias());
            }
            case "qwen2" -> o.addProperty("use_sliding_window", false);
            default -> o.add("sliding_window", JsonNull.INSTANCE); // mistral: full attention
        }
        o.addProperty("attention_dropout", Float.valueOf(c.attentionDropout()));
        o.addProperty("max_position_embeddings", c.maxPositionEmbeddings());
        o.addProperty("initializer_range", Float.valueOf(c.initializerRange()));
        o.addProperty("dtype", "float32");
        if (generation != null) {
            addTokens(o, generation);
        }
        return o;
    }

    private static JsonObject generationJson(GenerationConfig g) {
        JsonObject o = new JsonObject();
        addTokens(o, g);
        return o;
    }

    private static void addTokens(JsonObject o, GenerationConfig g) {
        if (g.bosTokenId() != null) {
            o.addProperty("bos_token_id", g.bosTokenId());
        }
        if (g.eosTokenIds().size() == 1) {
            o.addProperty("eos_token_id", g.eosTokenIds().get(0));
        } else if (!g.eosTokenIds().isEmpty()) {
            JsonArray eos = new JsonArray();
            g.eosTokenIds().forEach(eos::add);
            o.add("eos_token_id", eos);
        }
        if (g.padTokenId() != null) {
            o.addProperty("pad_token_id", g.padTokenId());
        }
    }

    private static String pretty(JsonObject o) {
        return new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(o) + "\n";
    }
}
