package dev.delora.djl.hf;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.util.PairList;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face fast tokenizer ({@code tokenizer.json}) through DJL's {@link HuggingFaceTokenizer}, configured
 * explicitly to behave like transformers' {@code tokenizer(texts, truncation=True, max_length=n,
 * padding="longest"|"max_length")}: special tokens added, truncation {@code longest_first} at {@code maxLength}
 * (special tokens included), right padding with the model's pad token and type id 0. The defaults stored in the
 * file (e.g. fixed padding to 128) are replaced, and nothing is downloaded.
 */
public final class HfTokenizer implements AutoCloseable {

    /** How a batch is padded. */
    public enum Padding {
        /** To the longest sequence of the batch ({@code padding="longest"}). */
        LONGEST,
        /** To {@code maxLength} ({@code padding="max_length"}). */
        MAX_LENGTH
    }

    /**
     * Tokenizer settings.
     *
     * @param maxLength truncation length, special tokens included
     * @param padding padding strategy
     * @param addSpecialTokens whether to add {@code [CLS]}/{@code [SEP]} (or {@code <s>}/{@code </s>})
     */
    public record Options(int maxLength, Padding padding, boolean addSpecialTokens) {
        /** Validates the options. */
        public Options {
            if (maxLength < 2) {
                throw new IllegalArgumentException("maxLength must be >= 2, got " + maxLength);
            }
            if (padding == null) {
                throw new IllegalArgumentException("padding must be set");
            }
        }

        /**
         * Truncation at {@code maxLength}, padding to the longest in the batch, special tokens added.
         *
         * @param maxLength the truncation length
         * @return the options
         */
        public static Options of(int maxLength) {
            return new Options(maxLength, Padding.LONGEST, true);
        }
    }

    /**
     * A tokenised batch, padded to one length.
     *
     * @param inputIds token ids (B, S)
     * @param attentionMask 1 for tokens, 0 for padding (B, S)
     * @param tokenTypeIds segment ids (B, S)
     */
    public record Batch(long[][] inputIds, long[][] attentionMask, long[][] tokenTypeIds) {
        /**
         * Returns {@code [input_ids, attention_mask, token_type_ids]} as int64 arrays, the model input.
         *
         * @param manager the manager owning the arrays
         * @return the arrays
         */
        public NDList toNDList(NDManager manager) {
            return new NDList(manager.create(inputIds), manager.create(attentionMask), manager.create(tokenTypeIds));
        }
    }

    private final HuggingFaceTokenizer tokenizer;
    private final Options options;
    private final long padId;
    private final String padToken;

    private HfTokenizer(HuggingFaceTokenizer tokenizer, Options options, long padId, String padToken) {
        this.tokenizer = tokenizer;
        this.options = options;
        this.padId = padId;
        this.padToken = padToken;
    }

    /**
     * Loads {@code tokenizer.json} (a file or a model folder; a {@code tokenizer_config.json} next to it may name
     * the pad token).
     *
     * @param path the file or folder
     * @param options the settings
     * @return the tokenizer (close it)
     * @throws IOException if the file is missing or invalid
     */
    public static HfTokenizer load(Path path, Options options) throws IOException {
        Path file = Files.isDirectory(path) ? path.resolve("tokenizer.json") : path;
        if (!Files.isRegularFile(file)) {
            throw new java.nio.file.NoSuchFileException(file.toString(), null, "no tokenizer.json");
        }
        String configPad = null;
        Path cfg = file.resolveSibling("tokenizer_config.json");
        if (Files.isRegularFile(cfg)) {
            try {
                JsonElement pad = JsonParser.parseString(Files.readString(cfg))
                        .getAsJsonObject()
                        .get("pad_token");
                if (pad != null && pad.isJsonPrimitive()) {
                    configPad = pad.getAsString();
                } else if (pad != null
                        && pad.isJsonObject()
                        && pad.getAsJsonObject().has("content")) {
                    configPad = pad.getAsJsonObject().get("content").getAsString();
                }
            } catch (JsonParseException | IllegalStateException e) {
                throw new IOException(cfg + ": not a JSON object (" + e.getMessage() + ")", e);
            }
        }
        return fromJson(Files.readString(file), options, file.toString(), configPad);
    }

    /**
     * Builds a tokenizer from {@code tokenizer.json} content.
     *
     * @param json the content
     * @param options the settings
     * @param source a name for messages
     * @param padTokenHint the pad token from {@code tokenizer_config.json}, or {@code null}
     * @return the tokenizer (close it)
     * @throws IOException if the content is invalid or has no pad token
     */
    public static HfTokenizer fromJson(String json, Options options, String source, String padTokenHint)
            throws IOException {
        JsonObject root;
        try {
            root = JsonParser.parseString(json).getAsJsonObject();
        } catch (JsonParseException | IllegalStateException e) {
            throw new IOException(source + ": not a tokenizer.json object (" + e.getMessage() + ")", e);
        }
        String token = null;
        Long id = null;
        JsonElement padding = root.get("padding");
        if (padding != null
                && padding.isJsonObject()
                && padding.getAsJsonObject().has("pad_id")) {
            token = padding.getAsJsonObject().get("pad_token").getAsString();
            id = padding.getAsJsonObject().get("pad_id").getAsLong();
        }
        if (id == null) {
            for (String candidate : padTokenHint != null ? List.of(padTokenHint) : List.of("[PAD]", "<pad>")) {
                id = lookup(root, candidate);
                if (id != null) {
                    token = candidate;
                    break;
                }
            }
        }
        if (id == null) {
            throw new IOException(source + ": cannot find the pad token (looked at \"padding\", then "
                    + (padTokenHint != null ? "'" + padTokenHint + "' from tokenizer_config.json" : "'[PAD]', '<pad>'")
                    + " in added_tokens and the vocabulary)");
        }
        JsonObject pad = new JsonObject();
        pad.add("strategy", new com.google.gson.JsonPrimitive("BatchLongest"));
        pad.addProperty("direction", "Right");
        pad.add("pad_to_multiple_of", JsonNull.INSTANCE);
        pad.addProperty("pad_id", id);
        pad.addProperty("pad_type_id", 0);
        pad.addProperty("pad_token", token);
        root.add("padding", pad);
        root.add("truncation", JsonNull.INSTANCE); // set below through the options, as transformers does per call

        Map<String, String> opts = new HashMap<>();
        opts.put("addSpecialTokens", Boolean.toString(options.addSpecialTokens()));
        opts.put("withOverflowingTokens", "false");
        opts.put("truncation", "LONGEST_FIRST");
        opts.put("padding", options.padding().name());
        opts.put("maxLength", Integer.toString(options.maxLength()));
        opts.put("modelMaxLength", Integer.toString(options.maxLength()));
        opts.put("padToMultipleOf", "0");
        opts.put("stride", "0");
        HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(
                new ByteArrayInputStream(root.toString().getBytes(StandardCharsets.UTF_8)), opts, null);
        return new HfTokenizer(tok, options, id, token);
    }

    private static Long lookup(JsonObject root, String token) {
        JsonArray added = root.has("added_tokens") && root.get("added_tokens").isJsonArray()
                ? root.getAsJsonArray("added_tokens")
                : new JsonArray();
        for (JsonElement e : added) {
            JsonObject o = e.getAsJsonObject();
            if (token.equals(o.get("content").getAsString())) {
                return o.get("id").getAsLong();
            }
        }
        JsonObject model = root.has("model") ? root.getAsJsonObject("model") : null;
        JsonElement vocab = model != null ? model.get("vocab") : null;
        if (vocab != null && vocab.isJsonObject() && vocab.getAsJsonObject().has(token)) {
            return vocab.getAsJsonObject().get(token).getAsLong();
        }
        if (vocab != null && vocab.isJsonArray()) { // Unigram: [[piece, score], ...]
            JsonArray arr = vocab.getAsJsonArray();
            for (int i = 0; i < arr.size(); i++) {
                if (token.equals(arr.get(i).getAsJsonArray().get(0).getAsString())) {
                    return (long) i;
                }
            }
        }
        return null;
    }

    /**
     * Tokenises single texts.
     *
     * @param texts the batch
     * @return ids, mask and type ids padded to one length
     */
    public Batch encode(List<String> texts) {
        return toBatch(tokenizer.batchEncode(texts));
    }

    /**
     * Tokenises text pairs ({@code [CLS] a [SEP] b [SEP]}); truncation removes tokens from the longer side first.
     *
     * @param first the first texts
     * @param second the second texts, same count
     * @return ids, mask and type ids padded to one length
     */
    public Batch encodePairs(List<String> first, List<String> second) {
        if (first.size() != second.size()) {
            throw new IllegalArgumentException("pair lists differ in size: " + first.size() + " vs " + second.size());
        }
        return toBatch(tokenizer.batchEncode(new PairList<>(first, second)));
    }

    private Batch toBatch(Encoding[] enc) {
        int n = enc.length;
        long[][] ids = new long[n][];
        long[][] mask = new long[n][];
        long[][] types = new long[n][];
        for (int i = 0; i < n; i++) {
            ids[i] = enc[i].getIds();
            mask[i] = enc[i].getAttentionMask();
            types[i] = enc[i].getTypeIds();
            if (ids[i].length != ids[0].length) {
                throw new IllegalStateException("tokenizer returned ragged rows (" + ids[i].length + " vs "
                        + ids[0].length + "); padding is not active");
            }
        }
        return new Batch(ids, mask, types);
    }

    /**
     * Returns the pad token id.
     *
     * @return the id written into padded positions
     */
    public long padId() {
        return padId;
    }

    /**
     * Returns the pad token.
     *
     * @return e.g. {@code [PAD]}
     */
    public String padToken() {
        return padToken;
    }

    /**
     * Returns the settings.
     *
     * @return the options
     */
    public Options options() {
        return options;
    }

    /** {@inheritDoc} */
    @Override
    public void close() {
        tokenizer.close();
    }
}
