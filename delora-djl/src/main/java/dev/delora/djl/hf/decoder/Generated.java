package dev.delora.djl.hf.decoder;

import ai.djl.ndarray.NDArray;

/**
 * The result of greedy generation.
 *
 * @param tokens the new tokens (B, steps) int64
 * @param stepLogits each step's last-position logits (B, steps, vocab), or {@code null} when not kept
 */
public record Generated(NDArray tokens, NDArray stepLogits) {}
