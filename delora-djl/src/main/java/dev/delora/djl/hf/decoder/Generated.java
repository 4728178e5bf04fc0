package dev.delora.djl.hf.decoder;

import ai.djl.ndarray.NDArray;

/**
 * The result of generation.
 *
 * @param tokens the new tokens (B, steps) int64; a row that finished early is padded after its eos token
 * @param stepLogits each step's last-position logits (B, steps, vocab) before any sampling warper, or {@code null}
 *     when not kept
 * @param lengths per row, the tokens generated up to and including its eos token (or {@code steps} when it has none)
 */
public record Generated(NDArray tokens, NDArray stepLogits, int[] lengths) {

    /** Copies the lengths. */
    public Generated {
        lengths = lengths.clone();
    }

    /**
     * Returns a copy of the per-row lengths.
     *
     * @return the lengths
     */
    @Override
    public int[] lengths() {
        return lengths.clone();
    }
}
