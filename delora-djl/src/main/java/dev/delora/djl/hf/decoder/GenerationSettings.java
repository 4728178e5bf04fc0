package dev.delora.djl.hf.decoder;

import java.util.List;

/**
 * How {@link CausalLm#generate} decodes, with transformers' {@code generate} meaning and defaults: greedy unless
 * {@code doSample}; when sampling, the logits of each step go through temperature, top-k and top-p (in that order,
 * each only when it changes anything) before a categorical draw. A row that produces one of {@code eosTokenIds} is
 * finished: it gets {@code padTokenId} from then on, and generation stops once every row is finished.
 *
 * @param maxNewTokens the most tokens to generate per row ({@code max_new_tokens}), at least 1
 * @param doSample sample ({@code do_sample=True}) instead of taking the argmax
 * @param temperature the logits are divided by it when sampling ({@code temperature}, default 1), &gt; 0
 * @param topK keep the {@code topK} largest logits (and those equal to the k-th) when sampling; 0 keeps all
 *     ({@code top_k}, default 50 as in transformers)
 * @param topP keep the smallest set of largest logits whose probability reaches {@code topP} (at least one) when
 *     sampling ({@code top_p}, default 1 = all), in (0, 1]
 * @param eosTokenIds the end-of-sequence ids ({@code eos_token_id}); empty: no stopping before {@code maxNewTokens}
 * @param padTokenId the token of finished rows ({@code pad_token_id}); {@code null}: the first eos id, as
 *     transformers does
 * @param seed the seed of the sampling draws ({@link java.util.Random}), or {@code null} for an unseeded generator
 * @param stopStrings strings that end a row once its generated text contains one ({@code stop_strings}); not empty
 * @param tokenText the text of a row's generated ids, e.g. the tokenizer's decode; required with stop strings
 */
public record GenerationSettings(
        int maxNewTokens,
        boolean doSample,
        float temperature,
        int topK,
        float topP,
        List<Integer> eosTokenIds,
        Integer padTokenId,
        Long seed,
        List<String> stopStrings,
        TokenText tokenText) {

    /** The text of generated token ids, for {@link #stopStrings}. */
    @FunctionalInterface
    public interface TokenText {
        /**
         * Decodes the ids a row generated so far.
         *
         * @param generatedIds the row's generated ids, in order (the prompt excluded)
         * @return their text
         */
        String decode(long[] generatedIds);
    }

    /** Validates every field (the message names it) and copies the eos list. */
    public GenerationSettings {
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("max_new_tokens must be >= 1, got " + maxNewTokens);
        }
        if (!(temperature > 0) || !Float.isFinite(temperature)) {
            throw new IllegalArgumentException("temperature must be a finite number > 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("top_k must be >= 0 (0 = no top-k filtering), got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("top_p must be in (0, 1], got " + topP);
        }
        eosTokenIds = List.copyOf(eosTokenIds);
        for (Integer e : eosTokenIds) {
            if (e < 0) {
                throw new IllegalArgumentException("eos_token_id must be >= 0, got " + eosTokenIds);
            }
        }
        if (padTokenId != null && padTokenId < 0) {
            throw new IllegalArgumentException("pad_token_id must be >= 0, got " + padTokenId);
        }
        stopStrings = List.copyOf(stopStrings);
        if (stopStrings.stream().anyMatch(String::isEmpty)) {
            throw new IllegalArgumentException("stop_strings must not contain an empty string, got " + stopStrings);
        }
        if (!stopStrings.isEmpty() && tokenText == null) {
            throw new IllegalArgumentException("stop_strings " + stopStrings + " need a TokenText to decode tokens");
        }
    }

    /**
     * Returns whether a row ends at some step: eos ids or stop strings are set.
     *
     * @return true when rows can finish before {@code maxNewTokens}
     */
    public boolean stopsEarly() {
        return !eosTokenIds.isEmpty() || !stopStrings.isEmpty();
    }

    /**
     * Returns whether a row's generated text contains a stop string.
     *
     * @param generatedIds the row's generated ids
     * @return true when it should finish
     */
    public boolean hitsStopString(long[] generatedIds) {
        if (stopStrings.isEmpty()) {
            return false;
        }
        String text = tokenText.decode(generatedIds);
        return stopStrings.stream().anyMatch(text::contains);
    }

    /**
     * Returns a builder with transformers' defaults (greedy, temperature 1, top-k 50, top-p 1, no eos, 20 tokens).
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns whether a token ends a row.
     *
     * @param token a token id
     * @return true when it is one of the eos ids
     */
    public boolean isEos(long token) {
        return eosTokenIds.stream().anyMatch(e -> e == token);
    }

    /**
     * Returns the token finished rows get: {@code padTokenId}, else the first eos id, else 0 (never used then).
     *
     * @return the padding token id
     */
    public long effectivePadTokenId() {
        if (padTokenId != null) {
            return padTokenId;
        }
        return eosTokenIds.isEmpty() ? 0 : eosTokenIds.get(0);
    }

    /** Builds {@link GenerationSettings}; every setter returns the builder. */
    public static final class Builder {
        private int maxNewTokens = 20;
        private boolean doSample;
        private float temperature = 1f;
        private int topK = 50;
        private float topP = 1f;
        private List<Integer> eosTokenIds = List.of();
        private Integer padTokenId;
        private Long seed;
        private List<String> stopStrings = List.of();
        private TokenText tokenText;

        private Builder() {}

        /**
         * Sets the stop strings and how generated ids become text.
         *
         * @param strings non-empty strings (an empty list: none)
         * @param text decodes a row's generated ids, e.g. {@code ids -> tokenizer.decode(ids, true)}
         * @return this builder
         */
        public Builder stopStrings(List<String> strings, TokenText text) {
            stopStrings = strings;
            tokenText = text;
            return this;
        }

        /**
         * Sets the most tokens to generate per row.
         *
         * @param n at least 1
         * @return this builder
         */
        public Builder maxNewTokens(int n) {
            maxNewTokens = n;
            return this;
        }

        /**
         * Chooses sampling (true) or greedy decoding (false, the default).
         *
         * @param on whether to sample
         * @return this builder
         */
        public Builder doSample(boolean on) {
            doSample = on;
            return this;
        }

        /**
         * Sets the sampling temperature.
         *
         * @param t &gt; 0
         * @return this builder
         */
        public Builder temperature(float t) {
            temperature = t;
            return this;
        }

        /**
         * Sets top-k (0 disables it).
         *
         * @param k &gt;= 0
         * @return this builder
         */
        public Builder topK(int k) {
            topK = k;
            return this;
        }

        /**
         * Sets top-p (1 disables it).
         *
         * @param p in (0, 1]
         * @return this builder
         */
        public Builder topP(float p) {
            topP = p;
            return this;
        }

        /**
         * Sets the end-of-sequence ids.
         *
         * @param ids the ids (empty: never stop early)
         * @return this builder
         */
        public Builder eosTokenIds(List<Integer> ids) {
            eosTokenIds = ids;
            return this;
        }

        /**
         * Sets the token finished rows get.
         *
         * @param id the pad id, or {@code null} for the first eos id
         * @return this builder
         */
        public Builder padTokenId(Integer id) {
            padTokenId = id;
            return this;
        }

        /**
         * Takes eos and pad ids from a model folder's {@code generation_config.json} (or {@code config.json}).
         *
         * @param config the model's generation config
         * @return this builder
         */
        public Builder generationConfig(GenerationConfig config) {
            eosTokenIds = config.eosTokenIds();
            padTokenId = config.padTokenId();
            return this;
        }

        /**
         * Sets the seed of the sampling draws.
         *
         * @param s the seed, or {@code null} for an unseeded generator
         * @return this builder
         */
        public Builder seed(Long s) {
            seed = s;
            return this;
        }

        /**
         * Builds the settings.
         *
         * @return the validated settings
         * @throws IllegalArgumentException naming the first invalid field
         */
        public GenerationSettings build() {
            return new GenerationSettings(
                    maxNewTokens,
                    doSample,
                    temperature,
                    topK,
                    topP,
                    eosTokenIds,
                    padTokenId,
                    seed,
                    stopStrings,
                    tokenText);
        }
    }
}
