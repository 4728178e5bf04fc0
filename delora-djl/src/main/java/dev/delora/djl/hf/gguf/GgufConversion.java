package dev.delora.djl.hf.gguf;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import dev.delora.djl.io.AtomicFiles;
import dev.delora.djl.io.SafetensorsDtype;
import dev.delora.djl.io.SafetensorsWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Converts a GGUF checkpoint of {@code general.architecture = llama} into a Hugging Face folder that transformers'
 * {@code LlamaForCausalLM} / {@code AutoTokenizer} and {@code DecoderModels.causalLm} load, as the reference scripts
 * {@code gguf_llama_to_hf.py} and {@code gguf_bpe_tokenizer.py} do:
 *
 * <ul>
 *   <li>{@code config.json}: {@code LlamaForCausalLM} with the sizes of the {@code llama.*} metadata, the vocabulary
 *       size of {@code tokenizer.ggml.tokens}, {@code tie_word_embeddings} when there is no {@code output.weight},
 *       and the bos/eos/pad ids of {@code tokenizer.ggml.*};
 *   <li>{@code model.safetensors}: every tensor dequantized to float32 ({@link GgufFile#dequantize}) under
 *       transformers' name ({@code token_embd} → {@code model.embed_tokens}, {@code blk.N.attn_q} →
 *       {@code model.layers.N.self_attn.q_proj}, ..., {@code output_norm} → {@code model.norm}, {@code output} →
 *       {@code lm_head}), shape {@code [out, in]}; the rows of Q and K put back in transformers' order (llama.cpp
 *       interleaves the two rotary halves of each head); metadata {@code {"format": "pt"}}, keys sorted;
 *   <li>{@code tokenizer.json} and {@code tokenizer_config.json} ({@link GgufTokenizer}; gpt2 byte-level BPE only),
 *       with {@code tokenizer.chat_template} when present.
 * </ul>
 *
 * <p>No {@code generation_config.json} is written (the special tokens are in {@code config.json}). The folder is
 * written crash-safely as a whole ({@link AtomicFiles#writeFolder}): it appears complete or not at all, and an existing
 * folder (empty or a model folder with a {@code config.json}) is replaced as a whole. Tensors are converted one at a
 * time, so memory peaks at about one tensor. Everything that can be checked before writing is (architecture, metadata
 * types, tensor names, tensor types); an unsupported architecture, tensor, type or value is a {@link GgufException}
 * naming the key or tensor and its value.
 */
public final class GgufConversion {
    private static final Pattern BLOCK = Pattern.compile("blk\\.(\\d+)\\.(\\w+)\\.weight");
    private static final Map<String, String> LAYER_NAMES = Map.of(
            "attn_norm", "input_layernorm",
            "ffn_norm", "post_attention_layernorm",
            "attn_q", "self_attn.q_proj",
            "attn_k", "self_attn.k_proj",
            "attn_v", "self_attn.v_proj",
            "attn_output", "self_attn.o_proj",
            "ffn_gate", "mlp.gate_proj",
            "ffn_up", "mlp.up_proj",
            "ffn_down", "mlp.down_proj");
    private static final Map<String, String> TOP_NAMES = Map.of(
            "token_embd.weight", "model.embed_tokens.weight",
            "output_norm.weight", "model.norm.weight",
            "output.weight", "lm_head.weight");

    private GgufConversion() {}

    /**
     * One tensor of the output.
     *
     * @param hfName transformers' name
     * @param source the GGUF tensor
     * @param heads for Q and K, the number of heads whose rows to un-permute; 0 for other tensors
     */
    record Planned(String hfName, GgufTensorInfo source, int heads) {}

    /**
     * Converts a GGUF file into a Hugging Face model folder.
     *
     * @param gguf a GGUF v2/v3 file with {@code general.architecture = llama} and a gpt2 tokenizer, whose tensors are
     *     F32, F16, BF16, Q8_0, Q4_0 or Q4_1
     * @param folder the output folder (created, or replaced as a whole)
     * @throws GgufException if the file is malformed or holds something unsupported (the message names it); the
     *     output folder is then as it was
     * @throws IOException if reading or writing fails (the output folder is then as it was)
     * @throws IllegalArgumentException if {@code folder} exists and is neither empty nor a model folder
     */
    public static void toHfFolder(Path gguf, Path folder) throws IOException {
        try (GgufFile f = GgufFile.open(gguf)) {
            JsonObject config = configJson(f);
            List<Planned> plan = plan(f);
            AtomicFiles.requireReplaceableModelFolder(folder, "conversion");
            AtomicFiles.writeFolder(folder, out -> {
                AtomicFiles.writeString(out.resolve("config.json"), pretty(config));
                JsonObject tokenizer = GgufTokenizer.tokenizerJson(f.metadata());
                AtomicFiles.writeString(out.resolve("tokenizer.json"), pretty(tokenizer));
                AtomicFiles.writeString(
                        out.resolve("tokenizer_config.json"), pretty(GgufTokenizer.tokenizerConfig(f.metadata())));
                writeSafetensors(f, plan, out.resolve("model.safetensors"));
            });
        }
    }

    /**
     * Builds the {@code config.json} of a llama GGUF file, field by field as {@code gguf_llama_to_hf.py}.
     *
     * @param f the open file
     * @return the JSON object
     * @throws GgufException if the architecture is not llama, a required {@code llama.*} key is missing or of the
     *     wrong type, or a feature the folder cannot express is set (rope scaling, partial rotary)
     */
    public static JsonObject configJson(GgufFile f) throws GgufException {
        GgufMetadata m = f.metadata();
        String arch = m.string("general.architecture");
        if (!"llama".equals(arch)) {
            throw m.fail(
                    "general.architecture",
                    "is '" + arch + "'; expected 'llama' (the only architecture this " + "converter supports)");
        }
        String p = arch + ".";
        String scaling = m.optionalString(p + "rope.scaling.type").orElse("none");
        if (!"none".equals(scaling)) {
            throw m.fail(
                    p + "rope.scaling.type",
                    "is '" + scaling + "'; expected 'none' (rope scaling is not " + "converted)");
        }
        long heads = positive(m, p + "attention.head_count");
        long kvHeads = m.optionalInteger(p + "attention.head_count_kv").orElse(heads);
        if (kvHeads <= 0 || heads % kvHeads != 0) {
            throw m.fail(
                    p + "attention.head_count_kv",
                    "is " + kvHeads + "; expected a positive divisor of " + p + "attention.head_count " + heads);
        }
        long hidden = positive(m, p + "embedding_length");
        long headDim = m.optionalInteger(p + "attention.key_length").orElse(hidden / heads);
        OptionalLong rotary = m.optionalInteger(p + "rope.dimension_count");
        if (rotary.isPresent() && rotary.getAsLong() != headDim) {
            throw m.fail(
                    p + "rope.dimension_count",
                    "is " + rotary.getAsLong() + "; expected the head size " + headDim
                            + " (partial rotary embeddings are not converted)");
        }
        int vocab = m.strings("tokenizer.ggml.tokens").size();
        JsonObject o = new JsonObject();
        JsonArray archs = new JsonArray();
        archs.add("LlamaForCausalLM");
        o.add("architectures", archs);
        o.addProperty("model_type", "llama");
        o.addProperty("hidden_size", hidden);
        o.addProperty("intermediate_size", positive(m, p + "feed_forward_length"));
        o.addProperty("num_hidden_layers", positive(m, p + "block_count"));
        o.addProperty("num_attention_heads", heads);
        o.addProperty("num_key_value_heads", kvHeads);
        o.addProperty("head_dim", headDim);
        o.addProperty("max_position_embeddings", positive(m, p + "context_length"));
        o.addProperty("rms_norm_eps", m.number(p + "attention.layer_norm_rms_epsilon"));
        o.addProperty("rope_theta", m.optionalNumber(p + "rope.freq_base").orElse(10000.0));
        o.add("rope_scaling", JsonNull.INSTANCE);
        o.addProperty("hidden_act", "silu");
        o.addProperty("vocab_size", vocab);
        o.addProperty("tie_word_embeddings", !f.tensors().containsKey("output.weight"));
        o.addProperty("attention_bias", false);
        o.addProperty("mlp_bias", false);
        o.addProperty("torch_dtype", "float32");
        String[][] ids = {
            {"bos_token_id", "tokenizer.ggml.bos_token_id"},
            {"eos_token_id", "tokenizer.ggml.eos_token_id"},
            {"pad_token_id", "tokenizer.ggml.padding_token_id"}
        };
        for (String[] id : ids) {
            OptionalLong v = GgufTokenizer.tokenId(m, id[1], vocab);
            if (v.isPresent()) {
                o.addProperty(id[0], v.getAsLong());
            } else {
                o.add(id[0], JsonNull.INSTANCE);
            }
        }
        o.addProperty("use_cache", true);
        return o;
    }

    /**
     * Maps every tensor to its transformers name and checks it can be converted.
     *
     * @param f the open file
     * @return the tensors sorted by transformers name
     * @throws GgufException naming the first tensor with an unknown name, an unsupported type or Q/K rows that do not
     *     split into heads
     */
    static List<Planned> plan(GgufFile f) throws GgufException {
        GgufMetadata m = f.metadata();
        long layers = m.integer("llama.block_count");
        long heads = m.integer("llama.attention.head_count");
        long kvHeads = m.optionalInteger("llama.attention.head_count_kv").orElse(heads);
        TreeMap<String, Planned> out = new TreeMap<>();
        for (GgufTensorInfo t : f.tensors().values()) {
            String name = TOP_NAMES.get(t.name());
            int permuteHeads = 0;
            Matcher b = BLOCK.matcher(t.name());
            if (name == null && b.matches() && LAYER_NAMES.containsKey(b.group(2))) {
                long layer = Long.parseLong(b.group(1));
                if (layer >= layers || (b.group(1).length() > 1 && b.group(1).startsWith("0"))) {
                    throw new GgufException(f.file() + " has tensor '" + t.name() + "' of layer " + b.group(1)
                            + "; expected layers 0 to " + (layers - 1) + " (llama.block_count " + layers + ")");
                }
                name = "model.layers." + layer + "." + LAYER_NAMES.get(b.group(2)) + ".weight";
                if ("attn_q".equals(b.group(2))) {
                    permuteHeads = (int) heads;
                } else if ("attn_k".equals(b.group(2))) {
                    permuteHeads = (int) kvHeads;
                }
            }
            if (name == null) {
                throw new GgufException(f.file() + " has tensor '" + t.name() + "', which has no LlamaForCausalLM "
                        + "counterpart; expected token_embd.weight, output_norm.weight, output.weight or "
                        + "blk.N.{" + String.join(",", new TreeMap<>(LAYER_NAMES).keySet()) + "}.weight");
            }
            if (!t.type().dequantizable()) {
                throw f.unsupported(t);
            }
            long[] shape = t.shape();
            if (permuteHeads > 0 && (shape.length != 2 || shape[0] % (2L * permuteHeads) != 0)) {
                throw new GgufException(f.file() + " has tensor '" + t.name() + "' of shape " + Arrays.toString(shape)
                        + "; expected a matrix whose " + shape[0] + " rows split into " + permuteHeads
                        + " heads of an even size");
            }
            out.put(name, new Planned(name, t, permuteHeads));
        }
        return new ArrayList<>(out.values());
    }

    /**
     * Undoes llama.cpp's Q/K row permutation ({@code convert_hf_to_gguf.py} {@code LlamaModel.permute}): within each
     * head of {@code d} rows, GGUF row {@code 2i + j} is transformers' row {@code j * d/2 + i}.
     *
     * @param w the row-major matrix {@code [rows, cols]} as stored in the GGUF file
     * @param rows the number of rows ({@code heads * d})
     * @param heads the number of heads
     * @return the matrix in transformers' row order
     */
    static float[] unpermute(float[] w, int rows, int heads) {
        int cols = w.length / rows;
        int d = rows / heads;
        int half = d / 2;
        float[] out = new float[w.length];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                for (int j = 0; j < 2; j++) {
                    System.arraycopy(w, (h * d + 2 * i + j) * cols, out, (h * d + j * half + i) * cols, cols);
                }
            }
        }
        return out;
    }

    private static void writeSafetensors(GgufFile f, List<Planned> plan, Path file) throws IOException {
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        Map<String, Planned> byName = new TreeMap<>();
        for (Planned p : plan) {
            entries.add(new SafetensorsWriter.Entry(
                    p.hfName(), SafetensorsDtype.F32, p.source().shape()));
            byName.put(p.hfName(), p);
        }
        SafetensorsWriter.write(file, null, entries, (entry, out) -> {
            Planned p = byName.get(entry.name());
            float[] w = f.dequantize(p.source().name());
            if (p.heads() > 0) {
                w = unpermute(w, (int) p.source().shape()[0], p.heads());
            }
            writeFloats(out, w);
        });
    }

    private static void writeFloats(OutputStream out, float[] w) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < w.length; ) {
            int n = Math.min(w.length - i, buf.capacity() / 4);
            buf.clear();
            buf.asFloatBuffer().put(w, i, n);
            out.write(buf.array(), 0, n * 4);
            i += n;
        }
    }

    private static long positive(GgufMetadata m, String key) throws GgufException {
        long v = m.integer(key);
        if (v <= 0 || v > Integer.MAX_VALUE) {
            throw m.fail(key, "is " + v + "; expected a positive int");
        }
        return v;
    }

    private static String pretty(JsonObject o) {
        return new GsonBuilder()
                        .setPrettyPrinting()
                        .serializeNulls()
                        .disableHtmlEscaping()
                        .create()
                        .toJson(o)
                + "\n";
    }
}
