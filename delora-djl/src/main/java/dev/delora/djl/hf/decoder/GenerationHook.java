package dev.delora.djl.hf.decoder;

import ai.djl.ndarray.NDArray;

/**
 * What generation does after each step's choice: replace tokens (e.g. padding for rows that already ended)
 * and stop early (e.g. when every row has produced an end-of-sequence token).
 */
public interface GenerationHook {

    /** Keeps every argmax token and never stops early. */
    GenerationHook NONE = new GenerationHook() {};

    /**
     * Returns the tokens to append at a step.
     *
     * @param step the 0-based step
     * @param lastLogits the last position's logits (B, vocab)
     * @param chosen the argmax (or sampled) tokens (B) int64
     * @return the tokens to append (B) int64; by default {@code chosen}
     */
    default NDArray select(int step, NDArray lastLogits, NDArray chosen) {
        return chosen;
    }

    /**
     * Returns whether to stop after a step (its tokens are kept).
     *
     * @param step the 0-based step
     * @param appended the tokens just appended (B) int64
     * @return true to stop; by default false
     */
    default boolean stop(int step, NDArray appended) {
        return false;
    }
}
