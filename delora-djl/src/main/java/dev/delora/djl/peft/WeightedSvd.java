package dev.delora.djl.peft;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.delora.core.LoraFactors;
import dev.delora.core.linalg.RandomizedSvd;
import java.util.Arrays;
import java.util.List;

/**
 * The SVD combinations of {@link WeightedAdapters} ({@code svd} and the {@code *_svd} pruning forms), kept apart for
 * their numerics: the rank-r truncated SVD {@code U S Vh} of a combined update, {@code B = U·diag(S)}, {@code A = Vh},
 * optionally clamped to the {@code svd_clamp} quantile of their entries, as PEFT's
 * {@code _svd_generalized_task_arithmetic_weighted_adapter}.
 */
final class WeightedSvd {

    /** Extra sketch columns for a pruned update, which has full rank: exact when min(out, in) ≤ rank + 64. */
    static final int PRUNED_OVERSAMPLES = 64;

    private static final int PRUNED_POWER_ITERATIONS = 4;
    private static final long SEED = 20_240_601L;

    private WeightedSvd() {}

    /** Rejects an SVD rank above {@code min(out, in)} of a module (PEFT fails there too). */
    static void checkRank(String module, int newRank, Shape weightShape) {
        long out = weightShape.get(0);
        long in = weightShape.get(1);
        if (newRank > Math.min(out, in)) {
            throw new IllegalArgumentException("svd rank " + newRank + " exceeds min(out, in) = " + Math.min(out, in)
                    + " of module '" + module + "'");
        }
    }

    /** {@code svd}: the truncated SVD of {@code Σ w_i s_i B_i A_i}, computed in float64. */
    static NDArray[] svd(
            String module,
            List<LoraFactors> present,
            List<Double> w,
            int newRank,
            Double clamp,
            Shape weightShape,
            NDManager scratch) {
        checkRank(module, newRank, weightShape);
        NDArray delta = scratch.zeros(weightShape, DataType.FLOAT64);
        for (int i = 0; i < present.size(); i++) {
            LoraFactors f = present.get(i);
            NDArray b64 = f.b().toType(DataType.FLOAT64, true);
            NDArray a64 = f.a().toType(DataType.FLOAT64, true);
            delta = delta.add(b64.matMul(a64).mul(w.get(i) * f.scaling()));
        }
        long sum = present.stream().mapToLong(LoraFactors::rank).sum();
        // the sketch spans every column of ΔW (its rank is at most the sum of the ranks): the SVD is exact
        int oversamples = (int) Math.max(0, sum - newRank) + 4;
        return factor(delta, newRank, (int) Math.min(newRank, sum), oversamples, 2, clamp, scratch);
    }

    /**
     * The {@code *_svd} pruning forms: the truncated SVD of an already merged (pruned, full-rank) update, exact when
     * {@code min(out, in) ≤ newRank + }{@link #PRUNED_OVERSAMPLES}, else randomized with 4 power iterations.
     */
    static NDArray[] ofMerged(float[] merged, int newRank, Double clamp, Shape weightShape, NDManager scratch) {
        NDArray delta = scratch.create(merged, weightShape).toType(DataType.FLOAT64, false);
        return factor(delta, newRank, newRank, PRUNED_OVERSAMPLES, PRUNED_POWER_ITERATIONS, clamp, scratch);
    }

    /** {@code {A, B}} (float32) of the truncated SVD of a float64 {@code delta}, zero-padded to {@code newRank}. */
    private static NDArray[] factor(
            NDArray delta,
            int newRank,
            int maxRank,
            int oversamples,
            int powerIterations,
            Double clamp,
            NDManager scratch) {
        long out = delta.getShape().get(0);
        long in = delta.getShape().get(1);
        NDArray b;
        NDArray a;
        RandomizedSvd.Result r = truncated(delta, maxRank, oversamples, powerIterations);
        if (r == null) { // ΔW is zero
            b = scratch.zeros(new Shape(out, newRank), DataType.FLOAT64);
            a = scratch.zeros(new Shape(newRank, in), DataType.FLOAT64);
        } else {
            b = r.u().mul(r.s().reshape(1, -1));
            a = r.vt();
            long k = r.s().getShape().get(0);
            if (k < newRank) { // ΔW's rank is below the requested one: the missing singular values are zero
                b = b.concat(scratch.zeros(new Shape(out, newRank - k), DataType.FLOAT64), 1);
                a = a.concat(scratch.zeros(new Shape(newRank - k, in), DataType.FLOAT64), 0);
            }
        }
        if (clamp != null) {
            double hi = quantile(b, a, clamp);
            b = b.clip(-hi, hi);
            a = a.clip(-hi, hi);
        }
        return new NDArray[] {a.toType(DataType.FLOAT32, true), b.toType(DataType.FLOAT32, true)};
    }

    /** The truncated SVD at the requested rank, or at ΔW's numerical rank when that is lower; null for zero. */
    private static RandomizedSvd.Result truncated(NDArray delta, int maxRank, int oversamples, int powerIterations) {
        for (int k = maxRank; k >= 1; k--) {
            try {
                return RandomizedSvd.decompose(
                        delta, new RandomizedSvd.Options(k, oversamples, powerIterations, SEED, true));
            } catch (IllegalArgumentException e) {
                String msg = String.valueOf(e.getMessage());
                if (!msg.contains("numerical rank") && !msg.contains("is zero")) {
                    throw e;
                }
            }
        }
        return null;
    }

    /** torch.quantile (linear interpolation) of the entries of U·diag(S) and Vh together. */
    private static double quantile(NDArray b, NDArray a, double q) {
        double[] x = new double[(int) (b.size() + a.size())];
        double[] bv = b.toDoubleArray();
        System.arraycopy(bv, 0, x, 0, bv.length);
        System.arraycopy(a.toDoubleArray(), 0, x, bv.length, (int) a.size());
        Arrays.sort(x);
        double pos = q * (x.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, x.length - 1);
        return x[lo] + (x[hi] - x[lo]) * (pos - lo);
    }
}
