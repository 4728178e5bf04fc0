package dev.delora.core.sora;

import java.util.Arrays;

/**
 * SoRA's sparsifying schedule of the proximal threshold ξ ({@code SparseAdamW._build_lambda_list} and
 * {@code step_lambda}): a list of {@code num} values from ξ₀ to {@code max}; {@link #step()} advances to the next one
 * and stays on the last.
 */
public final class SparsityScheduler {

    private final double[] values;
    private int index;

    /**
     * Builds the list of thresholds.
     *
     * @param kind spacing
     * @param xi0 the starting threshold ({@code sparse_lambda_2})
     * @param maxXi the last threshold ({@code max_lambda})
     * @param num the number of values ({@code lambda_num}), ≥ 1
     */
    public SparsityScheduler(SoraSchedule kind, double xi0, double maxXi, int num) {
        if (num < 1) {
            throw new IllegalArgumentException("SparsityScheduler lambda_num must be >= 1, got " + num);
        }
        if (!Double.isFinite(xi0) || !Double.isFinite(maxXi) || xi0 < 0 || maxXi < 0) {
            throw new IllegalArgumentException(
                    "SparsityScheduler thresholds must be finite and >= 0, got " + xi0 + " and " + maxXi);
        }
        if (kind == SoraSchedule.EXP_LINEAR && (xi0 <= 0 || maxXi <= 0)) {
            throw new IllegalArgumentException(
                    "exp_linear needs positive thresholds (it takes their log), got " + xi0 + " and " + maxXi);
        }
        switch (kind) {
            case LINEAR -> values = linspace(xi0, maxXi, num);
            case LOG_LINEAR ->
                values = Arrays.stream(linspace(Math.exp(xi0), Math.exp(maxXi), num))
                        .map(Math::log)
                        .toArray();
            case EXP_LINEAR ->
                values = Arrays.stream(linspace(Math.log(xi0), Math.log(maxXi), num))
                        .map(Math::exp)
                        .toArray();
            default -> throw new IllegalStateException(kind.name());
        }
    }

    /**
     * numpy's {@code linspace(start, stop, num)} with {@code endpoint=True}, same arithmetic: {@code step = (stop −
     * start)/(num − 1)}, {@code start + i·step}, and the last value set to {@code stop} exactly.
     */
    static double[] linspace(double start, double stop, int num) {
        double[] out = new double[num];
        if (num == 1) {
            out[0] = start;
            return out;
        }
        double step = (stop - start) / (num - 1);
        for (int i = 0; i < num; i++) {
            out[i] = start + i * step;
        }
        out[num - 1] = stop;
        return out;
    }

    /**
     * The current threshold ξ.
     *
     * @return ξ
     */
    public double current() {
        return values[index];
    }

    /**
     * Advances to the next threshold (no-op on the last, as the reference).
     *
     * @return the new current threshold
     */
    public double step() {
        if (index < values.length - 1) {
            index++;
        }
        return values[index];
    }

    /**
     * All thresholds.
     *
     * @return a copy of the list
     */
    public double[] values() {
        return values.clone();
    }
}
