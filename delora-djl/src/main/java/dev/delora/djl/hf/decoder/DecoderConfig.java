package dev.delora.djl.hf.decoder;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The fields of a Llama-family {@code config.json} ({@code llama}, {@code qwen2}, {@code mistral} without a sliding
 * window) that {@link CausalLm} uses. Reading is strict: an unsupported value (another activation, rope type,
 * sliding-window attention, partial rotary, another architecture) is an {@link IllegalArgumentException} naming the
 * file, the field, the value and what is supported, never a silently different model.
 *
 * @param modelType {@code llama}, {@code qwen2} or {@code mistral}
 * @param vocabSize rows of {@code embed_tokens} and {@code lm_head}
 * @param hiddenSize model width
 * @param intermediateSize width of the gated MLP
 * @param numHiddenLayers number of decoder layers
 * @param numAttentionHeads query heads
 * @param numKeyValueHeads key/value heads (grouped-query attention); divides {@code numAttentionHeads}
 * @param headDim width of one head ({@code head_dim}, else {@code hidden_size / num_attention_heads})
 * @param rmsNormEps RMSNorm epsilon
 * @param ropeTheta rotary base
 * @param ropeScaling the llama3 scaling, or {@code null}
 * @param tieWordEmbeddings whether {@code lm_head} is {@code embed_tokens} (then absent from the tree and the file)
 * @param qkvBias whether q/k/v projections have biases (Qwen2; Llama's {@code attention_bias})
 * @param outputBias whether {@code o_proj} has a bias (Llama's {@code attention_bias})
 * @param mlpBias whether the MLP projections have biases (Llama's {@code mlp_bias})
 * @param attentionDropout dropout on attention probabilities in training forwards
 * @param maxPositionEmbeddings the context length the model was configured for (informational)
 * @param initializerRange standard deviation of newly initialised weights
 */
public record DecoderConfig(
        String modelType,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,
        int headDim,
        float rmsNormEps,
        double ropeTheta,
        RopeScaling ropeScaling,
        boolean tieWordEmbeddings,
        boolean qkvBias,
        boolean outputBias,
        boolean mlpBias,
        float attentionDropout,
        int maxPositionEmbeddings,
        float initializerRange) {

    private static final Map<String, String> ARCHITECTURES =
            Map.of("llama", "LlamaForCausalLM", "qwen2", "Qwen2ForCausalLM", "mistral", "MistralForCausalLM");

    /** Validates the configuration. */
    public DecoderConfig {
        if (!ARCHITECTURES.containsKey(modelType)) {
            throw new IllegalArgumentException("model_type '" + modelType + "' is not supported; supported: llama, "
                    + "qwen2, mistral (without sliding window)");
        }
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", numHiddenLayers);
        positive("num_attention_heads", numAttentionHeads);
        positive("num_key_value_heads", numKeyValueHeads);
        positive("head_dim", headDim);
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads " + numAttentionHeads
                    + " is not a multiple of num_key_value_heads " + numKeyValueHeads);
        }
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("head_dim " + headDim + " is odd; rotary embeddings need it even");
        }
        if (!(rmsNormEps > 0)) {
            throw new IllegalArgumentException("rms_norm_eps must be > 0, got " + rmsNormEps);
        }
        if (!(ropeTheta > 0)) {
            throw new IllegalArgumentException("rope_theta must be > 0, got " + ropeTheta);
        }
        if (!(attentionDropout >= 0 && attentionDropout < 1)) {
            throw new IllegalArgumentException("attention_dropout must be in [0, 1), got " + attentionDropout);
        }
    }

    private static void positive(String name, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + v);
        }
    }

    /**
     * Reads {@code config.json}.
     *
     * @param file the file, or a model folder holding it
     * @return the configuration
     * @throws IOException if the file is missing or not a JSON object
     * @throws IllegalArgumentException if a field is unsupported or invalid (the message names the file)
     */
    public static DecoderConfig load(Path file) throws IOException {
        Path f = Files.isDirectory(file) ? file.resolve("config.json") : file;
        JsonObject o = JsonFields.read(f);
        try {
            return fromJson(o, f.toString());
        } catch (IllegalArgumentException e) {
            throw e.getMessage().startsWith(f + ":") ? e : new IllegalArgumentException(f + ": " + e.getMessage(), e);
        }
    }

    /**
     * Builds a configuration from parsed {@code config.json} content, with transformers' defaults for absent fields.
     *
     * @param o the JSON object
     * @param source the file it came from, named in errors
     * @return the configuration
     */
    public static DecoderConfig fromJson(JsonObject o, String source) {
        JsonFields f = new JsonFields(o, source, "");
        String type = f.string("model_type", null);
        if (type == null || !ARCHITECTURES.containsKey(type)) {
            throw f.error(
                    "model_type",
                    (type == null ? "is missing" : "is '" + type + "'") + "; supported: llama, qwen2, mistral");
        }
        List<String> archs = f.strings("architectures");
        if (archs != null) {
            for (String a : archs) {
                if (!a.equals(ARCHITECTURES.get(type))) {
                    throw f.error(
                            "architectures",
                            "holds '" + a + "'; supported for model_type '" + type + "': " + ARCHITECTURES.get(type));
                }
            }
        }
        String act = f.string("hidden_act", "silu");
        if (!"silu".equals(act)) {
            throw f.error("hidden_act", "is '" + act + "'; supported: silu");
        }
        checkAttentionKind(f, type);
        if (f.has("partial_rotary_factor") && f.number("partial_rotary_factor", null) != 1.0) {
            throw f.error(
                    "partial_rotary_factor",
                    "is " + f.number("partial_rotary_factor", null) + "; supported: 1.0 (rotary on the whole head)");
        }
        int heads = f.integer("num_attention_heads", null);
        int hidden = f.integer("hidden_size", null);
        boolean llama = "llama".equals(type);
        boolean attentionBias = llama && f.bool("attention_bias", false);
        boolean mlpBias = llama && f.bool("mlp_bias", false);
        int kvDefault = switch (type) {
            case "qwen2" -> 32;
            case "mistral" -> 8;
            default -> heads;
        };
        int maxPosDefault = switch (type) {
            case "qwen2" -> 32768;
            case "mistral" -> 4096 * 32;
            default -> 2048;
        };
        try {
            return build(f, type, heads, hidden, attentionBias, mlpBias, kvDefault, maxPosDefault);
        } catch (IllegalArgumentException e) {
            throw e.getMessage().startsWith(source + ": ")
                    ? e
                    : new IllegalArgumentException(source + ": " + e.getMessage(), e);
        }
    }

    private static DecoderConfig build(
            JsonFields f,
            String type,
            int heads,
            int hidden,
            boolean attentionBias,
            boolean mlpBias,
            int kvDefault,
            int maxPosDefault) {
        return new DecoderConfig(
                type,
                f.integer("vocab_size", null),
                hidden,
                f.integer("intermediate_size", null),
                f.integer("num_hidden_layers", null),
                heads,
                f.integer("num_key_value_heads", kvDefault),
                f.integer("head_dim", heads > 0 ? hidden / heads : 0),
                (float) f.number("rms_norm_eps", 1e-6),
                f.number("rope_theta", 10000.0),
                ropeScaling(f),
                f.bool("tie_word_embeddings", false),
                attentionBias || "qwen2".equals(type),
                attentionBias,
                mlpBias,
                (float) f.number("attention_dropout", 0.0),
                f.integer("max_position_embeddings", maxPosDefault),
                (float) f.number("initializer_range", 0.02));
    }

    /** Rejects sliding-window attention (Qwen2's use_sliding_window / layer_types, Mistral's sliding_window). */
    private static void checkAttentionKind(JsonFields f, String type) {
        if ("qwen2".equals(type) && f.bool("use_sliding_window", false)) {
            throw f.error("use_sliding_window", "is true; supported: false (full attention in every layer)");
        }
        if ("mistral".equals(type) && f.has("sliding_window")) {
            throw f.error(
                    "sliding_window",
                    "is " + f.integer("sliding_window", null) + "; supported for mistral: null (full attention, "
                            + "the Llama graph)");
        }
        List<String> layerTypes = f.strings("layer_types");
        if (layerTypes != null) {
            for (String t : layerTypes) {
                if (!"full_attention".equals(t)) {
                    throw f.error("layer_types", "holds '" + t + "'; supported: full_attention");
                }
            }
        }
    }

    private static RopeScaling ropeScaling(JsonFields f) {
        JsonFields rs = f.object("rope_scaling");
        if (rs == null) {
            return null;
        }
        String key = rs.has("rope_type") ? "rope_type" : "type";
        String t = rs.string(key, "default");
        if ("default".equals(t)) {
            return null;
        }
        if (!RopeScaling.LLAMA3.equals(t)) {
            throw rs.error(key, "is '" + t + "'; supported: default (or no rope_scaling), llama3");
        }
        try {
            return new RopeScaling(
                    t,
                    rs.number("factor", null),
                    rs.number("low_freq_factor", null),
                    rs.number("high_freq_factor", null),
                    rs.integer("original_max_position_embeddings", null));
        } catch (IllegalArgumentException e) {
            throw e.getMessage().startsWith(f.source())
                    ? e
                    : new IllegalArgumentException(f.source() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Returns the transformers class this configuration builds.
     *
     * @return {@code LlamaForCausalLM}, {@code Qwen2ForCausalLM} or {@code MistralForCausalLM}
     */
    public String architecture() {
        return ARCHITECTURES.get(modelType);
    }

    /**
     * Returns how many query heads share one key/value head.
     *
     * @return {@code num_attention_heads / num_key_value_heads}
     */
    public int kvGroups() {
        return numAttentionHeads / numKeyValueHeads;
    }
}
