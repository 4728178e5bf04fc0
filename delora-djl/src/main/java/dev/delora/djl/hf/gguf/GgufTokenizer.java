package dev.delora.djl.hf.gguf;

import com.google.gson.JsonArray;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;

/**
 * Builds a Hugging Face {@code tokenizer.json} and {@code tokenizer_config.json} from the {@code tokenizer.ggml.*}
 * metadata of a GGUF file whose {@code tokenizer.ggml.model} is {@code gpt2} (byte-level BPE), as the reference
 * script {@code gguf_bpe_tokenizer.py} builds them with the {@code tokenizers} library:
 *
 * <ul>
 *   <li>model: BPE over {@code tokenizer.ggml.tokens} (id = index) and {@code tokenizer.ggml.merges} ("a b", split at
 *       the first space), no unk token, no byte fallback;
 *   <li>pre-tokenizer: for {@code tokenizer.ggml.pre} {@code smollm}, {@code starcoder}, {@code refact} or
 *       {@code codeshell} a sequence of Digits(individual_digits) and ByteLevel (so numbers split into one token per
 *       digit); for {@code gpt-2}, {@code gpt2}, {@code default} or none ByteLevel alone; ByteLevel without a prefix
 *       space; any other value is refused;
 *   <li>post-processor and decoder: ByteLevel (no BOS is prepended);
 *   <li>added tokens: every token of {@code tokenizer.ggml.token_type} 3 (CONTROL, special) or 4 (USER_DEFINED, not
 *       special), not normalized.
 * </ul>
 *
 * <p>{@code tokenizer_config.json} holds {@code PreTrainedTokenizerFast}, the context length as
 * {@code model_max_length}, {@code add_bos_token}, the bos/eos/unk/pad tokens named by the {@code tokenizer.ggml.*_id}
 * keys present, and {@code tokenizer.chat_template} when present.
 */
public final class GgufTokenizer {
    private static final Set<String> DIGIT_SPLIT = Set.of("smollm", "starcoder", "refact", "codeshell");
    private static final Set<String> PLAIN = Set.of("gpt-2", "gpt2", "default");
    private static final int CONTROL = 3;
    private static final int USER_DEFINED = 4;

    private GgufTokenizer() {}

    /**
     * Builds {@code tokenizer.json}.
     *
     * @param m the metadata of a file with a gpt2 tokenizer
     * @return the JSON object (the layout the {@code tokenizers} library saves)
     * @throws GgufException if the tokenizer is not gpt2 BPE, its pre-tokenizer is unknown, or the tokens, types or
     *     merges are missing or malformed (the message names the key and value)
     */
    public static JsonObject tokenizerJson(GgufMetadata m) throws GgufException {
        String kind = m.string("tokenizer.ggml.model");
        if (!"gpt2".equals(kind)) {
            throw m.fail(
                    "tokenizer.ggml.model",
                    "is '" + kind + "'; expected 'gpt2' (byte-level BPE, the only "
                            + "tokenizer this converter builds)");
        }
        String pre = m.optionalString("tokenizer.ggml.pre").orElse(null);
        JsonObject byteLevel = byteLevel(false, true);
        JsonObject preTokenizer;
        if (pre != null && DIGIT_SPLIT.contains(pre)) {
            JsonObject digits = new JsonObject();
            digits.addProperty("type", "Digits");
            digits.addProperty("individual_digits", true);
            JsonArray seq = new JsonArray();
            seq.add(digits);
            seq.add(byteLevel);
            preTokenizer = new JsonObject();
            preTokenizer.addProperty("type", "Sequence");
            preTokenizer.add("pretokenizers", seq);
        } else if (pre == null || PLAIN.contains(pre)) {
            preTokenizer = byteLevel;
        } else {
            throw m.fail(
                    "tokenizer.ggml.pre",
                    "is '" + pre + "'; expected smollm, starcoder, refact or codeshell "
                            + "(digits split one by one), gpt-2, gpt2 or default");
        }
        List<String> tokens = m.strings("tokenizer.ggml.tokens");
        long[] types = m.integers("tokenizer.ggml.token_type");
        if (types.length != tokens.size()) {
            throw m.fail(
                    "tokenizer.ggml.token_type",
                    "has " + types.length + " entries; expected one per token (" + tokens.size() + ")");
        }
        List<String> merges = m.strings("tokenizer.ggml.merges");
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < tokens.size(); i++) {
            ids.put(tokens.get(i), i); // a repeated token keeps its last id, as a Python dict does
        }
        JsonObject vocab = new JsonObject();
        TreeMap<Integer, String> byId = new TreeMap<>();
        ids.forEach((t, i) -> byId.put(i, t));
        byId.forEach((i, t) -> vocab.addProperty(t, i));
        JsonArray mergeArray = new JsonArray();
        for (int i = 0; i < merges.size(); i++) {
            String s = merges.get(i);
            int sp = s.indexOf(' ');
            if (sp < 0) {
                throw m.fail(
                        "tokenizer.ggml.merges",
                        "has entry " + i + " = '" + cut(s) + "' without a space; " + "expected 'left right'");
            }
            JsonArray pair = new JsonArray();
            pair.add(s.substring(0, sp));
            pair.add(s.substring(sp + 1));
            mergeArray.add(pair);
        }
        TreeMap<Integer, JsonObject> added = new TreeMap<>();
        for (int i = 0; i < tokens.size(); i++) {
            if (types[i] == CONTROL || types[i] == USER_DEFINED) {
                int id = ids.get(tokens.get(i));
                JsonObject a = new JsonObject();
                a.addProperty("id", id);
                a.addProperty("content", tokens.get(i));
                a.addProperty("single_word", false);
                a.addProperty("lstrip", false);
                a.addProperty("rstrip", false);
                a.addProperty("normalized", false);
                a.addProperty("special", types[i] == CONTROL);
                added.putIfAbsent(id, a);
            }
        }
        JsonObject model = new JsonObject();
        model.addProperty("type", "BPE");
        model.add("dropout", JsonNull.INSTANCE);
        model.add("unk_token", JsonNull.INSTANCE);
        model.add("continuing_subword_prefix", JsonNull.INSTANCE);
        model.add("end_of_word_suffix", JsonNull.INSTANCE);
        model.addProperty("fuse_unk", false);
        model.addProperty("byte_fallback", false);
        model.addProperty("ignore_merges", false);
        model.add("vocab", vocab);
        model.add("merges", mergeArray);
        JsonObject o = new JsonObject();
        o.addProperty("version", "1.0");
        o.add("truncation", JsonNull.INSTANCE);
        o.add("padding", JsonNull.INSTANCE);
        JsonArray addedArray = new JsonArray();
        added.values().forEach(addedArray::add);
        o.add("added_tokens", addedArray);
        o.add("normalizer", JsonNull.INSTANCE);
        o.add("pre_tokenizer", preTokenizer);
        o.add("post_processor", byteLevel(true, false));
        o.add("decoder", byteLevel(true, true));
        o.add("model", model);
        return o;
    }

    /**
     * Builds {@code tokenizer_config.json}.
     *
     * @param m the metadata
     * @return the JSON object
     * @throws GgufException if a token id key is no integer or out of range, or a key has the wrong type
     */
    public static JsonObject tokenizerConfig(GgufMetadata m) throws GgufException {
        List<String> tokens = m.strings("tokenizer.ggml.tokens");
        String arch = m.string("general.architecture");
        JsonObject o = new JsonObject();
        o.addProperty("tokenizer_class", "PreTrainedTokenizerFast");
        o.addProperty("clean_up_tokenization_spaces", false);
        o.addProperty(
                "model_max_length", m.optionalInteger(arch + ".context_length").orElse(2048));
        o.addProperty("add_bos_token", m.bool("tokenizer.ggml.add_bos_token", false));
        o.addProperty("add_prefix_space", false);
        String[][] named = {
            {"bos_token", "tokenizer.ggml.bos_token_id"},
            {"eos_token", "tokenizer.ggml.eos_token_id"},
            {"unk_token", "tokenizer.ggml.unknown_token_id"},
            {"pad_token", "tokenizer.ggml.padding_token_id"}
        };
        for (String[] n : named) {
            OptionalLong id = tokenId(m, n[1], tokens.size());
            if (id.isPresent()) {
                o.addProperty(n[0], tokens.get((int) id.getAsLong()));
            }
        }
        m.optionalString("tokenizer.chat_template")
                .filter(s -> !s.isEmpty())
                .ifPresent(s -> o.addProperty("chat_template", s));
        return o;
    }

    /**
     * Reads an optional token id and checks it indexes the vocabulary.
     *
     * @param m the metadata
     * @param key e.g. {@code tokenizer.ggml.bos_token_id}
     * @param vocab the vocabulary size
     * @return the id, or empty when absent
     * @throws GgufException if it is no integer or not below {@code vocab}
     */
    static OptionalLong tokenId(GgufMetadata m, String key, int vocab) throws GgufException {
        OptionalLong id = m.optionalInteger(key);
        if (id.isPresent() && (id.getAsLong() < 0 || id.getAsLong() >= vocab)) {
            throw m.fail(key, "is " + id.getAsLong() + "; expected a token id below the vocabulary size " + vocab);
        }
        return id;
    }

    private static JsonObject byteLevel(boolean addPrefixSpace, boolean trimOffsets) {
        JsonObject o = new JsonObject();
        o.addProperty("type", "ByteLevel");
        o.addProperty("add_prefix_space", addPrefixSpace);
        o.addProperty("trim_offsets", trimOffsets);
        o.addProperty("use_regex", true);
        return o;
    }

    private static String cut(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "...";
    }
}
