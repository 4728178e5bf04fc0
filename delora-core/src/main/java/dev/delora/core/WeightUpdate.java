package dev.delora.core;

import ai.djl.ndarray.NDArray;

/**
 * What merging an adapter does to its module's weight, fixed at merge time so that unmerging undoes exactly that,
 * whatever the adapter's parameters became since. A plain additive update ({@link LoraFactors}) adds and subtracts
 * {@code ΔW}; a weight-decomposed one (DoRA) also rescales rows with the norms it saw when merging.
 */
public interface WeightUpdate extends AutoCloseable {

    /**
     * Computes the merged weight.
     *
     * @param weight the weight before merging, {@code [out, in]}, float32
     * @return a new float32 array {@code [out, in]}
     */
    NDArray apply(NDArray weight);

    /**
     * Computes the weight before merging from a merged one: the inverse of the {@link #apply} call this update made.
     *
     * @param merged the merged weight, {@code [out, in]}, float32
     * @return a new float32 array {@code [out, in]}
     */
    NDArray revert(NDArray merged);

    /** Frees the arrays the update holds. */
    @Override
    void close();
}
