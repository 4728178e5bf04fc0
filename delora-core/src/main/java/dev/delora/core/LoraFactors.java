package dev.delora.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.delora.core.array.ArrayOps;

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
        if (a.getShape().dimension() != 2
                || b.getShape().dimension() != 2
                || a.getShape().get(0) != b.getShape().get(1)) {
            throw new IllegalArgumentException(
                    "LoRA factors must be A [k, in] and B [out, k], got A " + a.getShape() + " and B " + b.getShape());
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
        // the scaling goes on the [out, k] factor: no pass over the [out, in] product
        try (NDArray scaledB = ArrayOps.scaled(b32, scaling)) {
            return scaledB.matMul(a32);
        } finally {
            if (a32 != a) {
                a32.close();
            }
            if (b32 != b) {
                b32.close();
            }
        }
    }

    /**
     * Tells, from the factors alone, whether {@link #dense()} is certainly finite. Each element of
     * {@code scaling · B A} is a sum of {@code k} products, so its magnitude is at most
     * {@code k · |scaling| · max|B| · max|A|}; when that bound is finite (with a factor-2 margin for adding it to a
     * weight) no element can be NaN or ±Inf. Two reductions over the small factors instead of one over the product.
     *
     * @return true if every element of the product is finite; false if a factor is not finite or the bound is too
     *     large to decide (check the product then)
     */
    public boolean denseCertainlyFinite() {
        double bound = rank() * Math.abs((double) scaling) * ArrayOps.maxAbs(a) * ArrayOps.maxAbs(b);
        return bound < Float.MAX_VALUE / 2.0;
    }

    @Override
    public void close() {
        a.close();
        b.close();
    }
}
