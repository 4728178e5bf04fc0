package dev.delora.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import dev.delora.core.array.ArrayOps;

/**
 * An update in plain LoRA form: {@code ΔW = scaling · B A}. Every method whose update does not depend on the base
 * weight converts to this form exactly ({@link LinearAdapter#hasLoraForm()}), which lets any PEFT user load its export
 * as a standard LoRA; as a {@link WeightUpdate} it merges by adding {@code ΔW} and unmerges by subtracting it.
 *
 * @param a the down projection {@code A}, {@code [k, in]}
 * @param b the up projection {@code B}, {@code [out, k]}
 * @param scaling the scalar multiplying {@code B A}
 */
public record LoraFactors(NDArray a, NDArray b, float scaling) implements WeightUpdate {

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

    /**
     * Computes {@code ‖scaling · B A‖_F} from the factors alone: {@code ‖BA‖²_F = Σ (BᵀB) ⊙ (A Aᵀ)}, two {@code k×k}
     * Gram matrices, in float64, never the {@code [out, in]} product.
     *
     * @return the Frobenius norm of ΔW
     */
    public double frobeniusNorm() {
        // the scope frees every temporary (casts, transposes, Grams) however the math is written
        try (NDScope scope = new NDScope()) {
            NDArray a64 = a.toType(DataType.FLOAT64, true);
            NDArray b64 = b.toType(DataType.FLOAT64, true);
            double sum = a64.matMul(a64.transpose())
                    .mul(b64.transpose().matMul(b64))
                    .sum()
                    .getDouble();
            // rounding can leave a tiny negative sum for a zero update
            return Math.abs((double) scaling) * Math.sqrt(Math.max(0, sum));
        }
    }

    /**
     * Returns {@code weight + ΔW}.
     *
     * @param weight {@code W}, {@code [out, in]}, float32
     * @return a new array
     */
    @Override
    public NDArray apply(NDArray weight) {
        try (NDArray delta = dense()) {
            return weight.add(delta);
        }
    }

    /**
     * Returns {@code merged − ΔW}.
     *
     * @param merged the merged weight, float32
     * @return a new array
     */
    @Override
    public NDArray revert(NDArray merged) {
        try (NDArray delta = dense()) {
            return merged.sub(delta);
        }
    }

    @Override
    public void close() {
        a.close();
        b.close();
    }
}
