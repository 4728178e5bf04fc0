package dev.delora.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * An update in plain LoRA form: {@code ΔW = scaling · B A}. Every method converts to this form exactly, which gives
 * one merge path and lets any PEFT user load an exported adapter as a standard LoRA.
 *
 * @param a the down projection {@code A}, {@code [k, in]}
 * @param b the up projection {@code B}, {@code [out, k]}
 * @param scaling the scalar multiplying {@code B A}
 */
public record LoraFactors(NDArray a, NDArray b, float scaling) implements AutoCloseable {

    /** Validates that the factors chain: {@code B}'s columns match {@code A}'s rows. */
    public LoraFactors {
        if (a.getShape().dimension() != 2 || b.getShape().dimension() != 2 || a.getShape().get(0) != b.getShape().get(1)) {
            throw new IllegalArgumentException("LoRA factors must be A [k, in] and B [out, k], got A " + a.getShape()
                    + " and B " + b.getShape());
        }
    }

    /**
     * Returns the rank k of the factorisation.
     *
     * @return the number of rank-one components
     */
    public long rank() {
        return a.getShape().get(0);
    }

    /**
     * Computes the dense {@code scaling · B A} in float32.
     *
     * @return a new {@code [out, in]} array
     */
    public NDArray dense() {
        NDArray a32 = a.toType(DataType.FLOAT32, false);
        NDArray b32 = b.toType(DataType.FLOAT32, false);
        return b32.matMul(a32).muli(scaling);
    }

    @Override
    public void close() {
        a.close();
        b.close();
    }
}
