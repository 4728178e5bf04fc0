package dev.delora.examples.glue;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The metrics of the {@code evaluate} library's {@code glue} metric, computed as scikit-learn and SciPy compute
 * them: accuracy, binary F1 (positive class 1), Matthews correlation, Pearson and Spearman correlation.
 *
 * <p>Edge cases follow the reference libraries: Matthews correlation is 0 when either the predictions or the
 * references are constant (sklearn); F1 is 0 when there are no positive predictions and no positive references
 * (sklearn's {@code zero_division} default); Pearson and Spearman are NaN when either input is constant (SciPy
 * warns and returns NaN), and a NaN in the inputs makes them NaN.
 */
public final class GlueMetrics {

    /** Key of accuracy in the {@code glue} metric's result. */
    public static final String ACCURACY = "accuracy";
    /** Key of F1 in the {@code glue} metric's result. */
    public static final String F1 = "f1";
    /** Key of Matthews correlation in the {@code glue} metric's result. */
    public static final String MATTHEWS_CORRELATION = "matthews_correlation";
    /** Key of Pearson correlation in the {@code glue} metric's result. */
    public static final String PEARSON = "pearson";
    /** Key of Spearman correlation in the {@code glue} metric's result. */
    public static final String SPEARMANR = "spearmanr";

    private GlueMetrics() {}

    /**
     * Computes the {@code glue} metric of a task: an ordered, unmodifiable map whose first entry selects the
     * model (see {@link GlueTask#metricNames()}).
     *
     * @param task the task
     * @param predictions the predictions: class ids (whole numbers) or, for STS-B, scores
     * @param references the labels, same length
     * @return metric name to value, in the {@code evaluate} library's order
     */
    public static Map<String, Double> compute(GlueTask task, double[] predictions, double[] references) {
        Objects.requireNonNull(task, "task");
        checkLengths(predictions, references);
        Map<String, Double> out = new LinkedHashMap<>();
        if (task.isRegression()) {
            out.put(PEARSON, pearson(predictions, references));
            out.put(SPEARMANR, spearman(predictions, references));
        } else {
            int[] p = classIds(predictions, "predictions");
            int[] r = classIds(references, "references");
            for (String name : task.metricNames()) {
                switch (name) {
                    case ACCURACY -> out.put(name, accuracy(p, r));
                    case F1 -> out.put(name, f1(p, r));
                    case MATTHEWS_CORRELATION -> out.put(name, matthewsCorrelation(p, r));
                    default -> throw new IllegalStateException("no metric " + name);
                }
            }
        }
        return Collections.unmodifiableMap(out);
    }

    /**
     * Computes the {@code glue} metric of a classification task from class ids.
     *
     * @param task the task (not STS-B)
     * @param predictions predicted class ids
     * @param references true class ids
     * @return metric name to value, in the {@code evaluate} library's order
     */
    public static Map<String, Double> compute(GlueTask task, int[] predictions, int[] references) {
        return compute(
                task,
                Arrays.stream(predictions).asDoubleStream().toArray(),
                Arrays.stream(references).asDoubleStream().toArray());
    }

    /**
     * Fraction of equal entries.
     *
     * @param predictions predicted class ids
     * @param references true class ids
     * @return the accuracy in [0, 1]
     */
    public static double accuracy(int[] predictions, int[] references) {
        checkLengths(predictions, references);
        int hits = 0;
        for (int i = 0; i < predictions.length; i++) {
            if (predictions[i] == references[i]) {
                hits++;
            }
        }
        return (double) hits / predictions.length;
    }

    /**
     * Binary F1 of class 1, {@code sklearn.metrics.f1_score(references, predictions)}.
     *
     * @param predictions predicted ids, each 0 or 1
     * @param references true ids, each 0 or 1
     * @return 2·tp / (2·tp + fp + fn), or 0 when that is 0/0
     */
    public static double f1(int[] predictions, int[] references) {
        checkLengths(predictions, references);
        long tp = 0;
        long fp = 0;
        long fn = 0;
        for (int i = 0; i < predictions.length; i++) {
            int p = binary(predictions[i], "predictions", i);
            int r = binary(references[i], "references", i);
            if (p == 1 && r == 1) {
                tp++;
            } else if (p == 1) {
                fp++;
            } else if (r == 1) {
                fn++;
            }
        }
        long denominator = 2 * tp + fp + fn;
        return denominator == 0 ? 0.0 : 2.0 * tp / denominator;
    }

    /**
     * Matthews correlation coefficient for any number of classes, {@code sklearn.metrics.matthews_corrcoef}.
     *
     * @param predictions predicted class ids
     * @param references true class ids
     * @return the coefficient in [−1, 1]; 0 when predictions or references are constant
     */
    public static double matthewsCorrelation(int[] predictions, int[] references) {
        checkLengths(predictions, references);
        Map<Integer, long[]> counts = new TreeMap<>(); // class -> {true count, predicted count}
        long correct = 0;
        for (int i = 0; i < predictions.length; i++) {
            counts.computeIfAbsent(references[i], c -> new long[2])[0]++;
            counts.computeIfAbsent(predictions[i], c -> new long[2])[1]++;
            if (predictions[i] == references[i]) {
                correct++;
            }
        }
        double n = predictions.length;
        double tDotP = 0;
        double tDotT = 0;
        double pDotP = 0;
        for (long[] c : counts.values()) {
            tDotP += (double) c[0] * c[1];
            tDotT += (double) c[0] * c[0];
            pDotP += (double) c[1] * c[1];
        }
        double covYtYp = correct * n - tDotP;
        double covYpYp = n * n - pDotP;
        double covYtYt = n * n - tDotT;
        if (covYpYp * covYtYt == 0) {
            return 0.0;
        }
        return covYtYp / Math.sqrt(covYtYt * covYpYp);
    }

    /**
     * Pearson correlation coefficient, {@code scipy.stats.pearsonr(x, y)[0]}.
     *
     * @param x first sample
     * @param y second sample, same length, at least 2
     * @return r in [−1, 1]; NaN if either sample is constant
     */
    public static double pearson(double[] x, double[] y) {
        checkLengths(x, y);
        if (x.length < 2) {
            throw new IllegalArgumentException("Pearson correlation needs at least 2 values, got " + x.length);
        }
        double mx = mean(x);
        double my = mean(y);
        double sxy = 0;
        double sxx = 0;
        double syy = 0;
        for (int i = 0; i < x.length; i++) {
            double dx = x[i] - mx;
            double dy = y[i] - my;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        if (sxx == 0 || syy == 0) {
            return Double.NaN; // SciPy: "An input array is constant; the correlation coefficient is not defined."
        }
        double r = sxy / Math.sqrt(sxx * syy);
        return Math.max(-1.0, Math.min(1.0, r));
    }

    /**
     * Spearman rank correlation, {@code scipy.stats.spearmanr(x, y)[0]}: Pearson of the ranks, tied values
     * getting their average rank.
     *
     * @param x first sample
     * @param y second sample, same length, at least 2
     * @return rho in [−1, 1]; NaN if either sample is constant
     */
    public static double spearman(double[] x, double[] y) {
        checkLengths(x, y);
        if (Arrays.stream(x).anyMatch(Double::isNaN) || Arrays.stream(y).anyMatch(Double::isNaN)) {
            return Double.NaN; // SciPy's default nan_policy="propagate"; ranking would hide the NaN
        }
        return pearson(averageRanks(x), averageRanks(y));
    }

    /**
     * Ranks (1-based) with ties given the mean of the ranks they span, as {@code scipy.stats.rankdata}'s default.
     *
     * @param values the values
     * @return their ranks
     */
    static double[] averageRanks(double[] values) {
        int n = values.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(values[a], values[b]));
        double[] ranks = new double[n];
        int i = 0;
        while (i < n) {
            int j = i;
            while (j + 1 < n && values[order[j + 1]] == values[order[i]]) {
                j++;
            }
            double rank = (i + j) / 2.0 + 1.0;
            for (int t = i; t <= j; t++) {
                ranks[order[t]] = rank;
            }
            i = j + 1;
        }
        return ranks;
    }

    private static double mean(double[] v) {
        double s = 0;
        for (double d : v) {
            s += d;
        }
        return s / v.length;
    }

    private static int binary(int v, String what, int i) {
        if (v != 0 && v != 1) {
            throw new IllegalArgumentException("binary F1 needs class ids 0 or 1, but " + what + "[" + i + "] = " + v);
        }
        return v;
    }

    private static int[] classIds(double[] v, String what) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (int) v[i];
            if (out[i] != v[i] || v[i] < 0) {
                throw new IllegalArgumentException("classification metrics need class ids (whole numbers >= 0), but "
                        + what + "[" + i + "] = " + v[i]);
            }
        }
        return out;
    }

    private static void checkLengths(Object a, Object b) {
        int la = java.lang.reflect.Array.getLength(Objects.requireNonNull(a, "predictions"));
        int lb = java.lang.reflect.Array.getLength(Objects.requireNonNull(b, "references"));
        if (la != lb) {
            throw new IllegalArgumentException("predictions and references differ in length: " + la + " vs " + lb);
        }
        if (la == 0) {
            throw new IllegalArgumentException("predictions and references are empty");
        }
    }
}
