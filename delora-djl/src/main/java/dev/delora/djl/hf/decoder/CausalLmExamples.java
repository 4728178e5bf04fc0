package dev.delora.djl.hf.decoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.util.Arrays;
import java.util.List;

/**
 * Turns (prompt, response) token ids into causal-LM training batches and prompts into generation batches, as
 * transformers' supervised fine-tuning recipes do: {@code input_ids = prompt + response (+ eos)}, labels
 * {@value CausalLmLoss#IGNORE_INDEX} over the prompt and the padding (so {@link CausalLmLoss} counts the response
 * only), right padding with the pad id for training and left padding for {@link CausalLm#generate}.
 *
 * <pre>{@code
 * CausalLmExamples.Example e = CausalLmExamples.example(promptIds, responseIds, eosId, 512, Truncation.LEFT_OF_PROMPT);
 * CausalLmExamples.TrainingBatch b = CausalLmExamples.trainingBatch(List.of(e), padId);
 * NDArray loss = CausalLmLoss.compute(lm.forward(ps, b.inputs(manager), true).head(), b.labels(manager));
 * }</pre>
 */
public final class CausalLmExamples {

    /** What {@link #example} does when prompt + response (+ eos) exceeds the maximum length. */
    public enum Truncation {
        /**
         * Drops tokens from the start of the prompt (its end, next to the response, is kept), keeping at least one
         * prompt token; when the response (+ eos) alone still does not fit, it is cut at its end (the eos first).
         */
        LEFT_OF_PROMPT,
        /** Throws an {@link IllegalArgumentException} naming both lengths. */
        REFUSE
    }

    /**
     * One unpadded training sequence.
     *
     * @param inputIds prompt + response (+ eos) token ids
     * @param labels the same ids, {@value CausalLmLoss#IGNORE_INDEX} over the prompt
     * @param promptLength how many leading tokens are prompt
     */
    public record Example(long[] inputIds, long[] labels, int promptLength) {

        /** Checks that ids and labels have one length and copies them. */
        public Example {
            if (inputIds.length != labels.length) {
                throw new IllegalArgumentException(
                        "input ids and labels differ in length: " + inputIds.length + " vs " + labels.length);
            }
            inputIds = inputIds.clone();
            labels = labels.clone();
        }

        /**
         * Returns a copy of the ids.
         *
         * @return the ids
         */
        @Override
        public long[] inputIds() {
            return inputIds.clone();
        }

        /**
         * Returns a copy of the labels.
         *
         * @return the labels
         */
        @Override
        public long[] labels() {
            return labels.clone();
        }

        /**
         * Returns the number of counted tokens as {@link CausalLmLoss} counts them (labels after the first position
         * that are not ignored).
         *
         * @return the counted tokens
         */
        public int countedTokens() {
            int n = 0;
            for (int t = 1; t < labels.length; t++) {
                n += labels[t] != CausalLmLoss.IGNORE_INDEX ? 1 : 0;
            }
            return n;
        }
    }

    /**
     * A right-padded training batch (host arrays, rows of equal length).
     *
     * @param inputIds (B, T) ids, padded with the pad id
     * @param attentionMask (B, T) 1 on tokens, 0 on padding
     * @param labels (B, T) labels, {@value CausalLmLoss#IGNORE_INDEX} over prompts and padding
     */
    public record TrainingBatch(long[][] inputIds, long[][] attentionMask, long[][] labels) {

        /**
         * Returns the model inputs {@code [input_ids, attention_mask]} (position ids default to {@code 0..T-1}, right
         * for right padding).
         *
         * @param manager where to create the arrays
         * @return the inputs
         */
        public NDList inputs(NDManager manager) {
            return new NDList(manager.create(inputIds), manager.create(attentionMask));
        }

        /**
         * Returns the labels as a (B, T) int64 array.
         *
         * @param manager where to create it
         * @return the labels
         */
        public NDArray labels(NDManager manager) {
            return manager.create(labels);
        }
    }

    /**
     * A left-padded prompt batch for {@link CausalLm#generate}.
     *
     * @param inputIds (B, T) ids, left-padded with the pad id
     * @param attentionMask (B, T) 0 on the leading padding, 1 on tokens
     */
    public record PromptBatch(long[][] inputIds, long[][] attentionMask) {

        /**
         * Returns the ids as a (B, T) int64 array.
         *
         * @param manager where to create it
         * @return the ids
         */
        public NDArray ids(NDManager manager) {
            return manager.create(inputIds);
        }

        /**
         * Returns the mask as a (B, T) int64 array.
         *
         * @param manager where to create it
         * @return the mask
         */
        public NDArray mask(NDManager manager) {
            return manager.create(attentionMask);
        }
    }

    private CausalLmExamples() {}

    /**
     * Builds one training sequence.
     *
     * @param prompt the prompt's ids, at least one
     * @param response the response's ids (may be empty)
     * @param eosId appended after the response when not {@code null}
     * @param maxLength the most tokens of the sequence, at least 2
     * @param truncation what to do when it is longer
     * @return the sequence and its labels
     * @throws IllegalArgumentException on an empty prompt, a too small maximum, or a too long sequence with
     *     {@link Truncation#REFUSE}
     */
    public static Example example(long[] prompt, long[] response, Long eosId, int maxLength, Truncation truncation) {
        if (prompt.length == 0) {
            throw new IllegalArgumentException("the prompt must have at least one token");
        }
        if (maxLength < 2) {
            throw new IllegalArgumentException("maxLength must be >= 2, got " + maxLength);
        }
        long[] answer = response;
        if (eosId != null) {
            answer = Arrays.copyOf(response, response.length + 1);
            answer[response.length] = eosId;
        }
        long[] kept = prompt;
        int total = prompt.length + answer.length;
        if (total > maxLength) {
            if (truncation == Truncation.REFUSE) {
                throw new IllegalArgumentException("prompt (" + prompt.length + " tokens) + response (" + answer.length
                        + " tokens" + (eosId != null ? " with eos" : "") + ") exceeds the maximum length "
                        + maxLength);
            }
            int keepPrompt = Math.max(1, maxLength - answer.length);
            kept = Arrays.copyOfRange(prompt, prompt.length - keepPrompt, prompt.length);
            answer = Arrays.copyOf(answer, Math.min(answer.length, maxLength - keepPrompt));
        }
        long[] ids = new long[kept.length + answer.length];
        long[] labels = new long[ids.length];
        System.arraycopy(kept, 0, ids, 0, kept.length);
        System.arraycopy(answer, 0, ids, kept.length, answer.length);
        Arrays.fill(labels, 0, kept.length, CausalLmLoss.IGNORE_INDEX);
        System.arraycopy(answer, 0, labels, kept.length, answer.length);
        return new Example(ids, labels, kept.length);
    }

    /**
     * Right-pads sequences to the longest one: padding gets {@code padId}, mask 0 and label
     * {@value CausalLmLoss#IGNORE_INDEX}.
     *
     * @param examples at least one sequence
     * @param padId the pad token id
     * @return the batch
     */
    public static TrainingBatch trainingBatch(List<Example> examples, long padId) {
        if (examples.isEmpty()) {
            throw new IllegalArgumentException("a batch needs at least one example");
        }
        int width = examples.stream().mapToInt(e -> e.inputIds.length).max().orElseThrow();
        long[][] ids = new long[examples.size()][width];
        long[][] mask = new long[examples.size()][width];
        long[][] labels = new long[examples.size()][width];
        for (int i = 0; i < examples.size(); i++) {
            Example e = examples.get(i);
            int n = e.inputIds.length;
            Arrays.fill(ids[i], padId);
            Arrays.fill(labels[i], CausalLmLoss.IGNORE_INDEX);
            System.arraycopy(e.inputIds, 0, ids[i], 0, n);
            System.arraycopy(e.labels, 0, labels[i], 0, n);
            Arrays.fill(mask[i], 0, n, 1L);
        }
        return new TrainingBatch(ids, mask, labels);
    }

    /**
     * Left-pads prompts to the longest one, as {@link CausalLm#generate} expects; a prompt longer than
     * {@code maxLength} keeps its last {@code maxLength} tokens.
     *
     * @param prompts at least one prompt of at least one token
     * @param padId the pad token id
     * @param maxLength the most tokens per prompt, at least 1
     * @return the batch
     */
    public static PromptBatch promptBatch(List<long[]> prompts, long padId, int maxLength) {
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException("a batch needs at least one prompt");
        }
        if (maxLength < 1) {
            throw new IllegalArgumentException("maxLength must be >= 1, got " + maxLength);
        }
        int width = 0;
        for (long[] p : prompts) {
            if (p.length == 0) {
                throw new IllegalArgumentException("every prompt must have at least one token");
            }
            width = Math.max(width, Math.min(p.length, maxLength));
        }
        long[][] ids = new long[prompts.size()][width];
        long[][] mask = new long[prompts.size()][width];
        for (int i = 0; i < prompts.size(); i++) {
            long[] p = prompts.get(i);
            int n = Math.min(p.length, maxLength);
            Arrays.fill(ids[i], padId);
            System.arraycopy(p, p.length - n, ids[i], width - n, n);
            Arrays.fill(mask[i], width - n, width, 1L);
        }
        return new PromptBatch(ids, mask);
    }
}
