package dev.delora.djl.peft;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * PEFT 0.21.2's {@code utils/merge_utils.py} on host float32 arrays (plain Java, engine-independent): the task
 * arithmetic behind {@link WeightedAdapters}' {@code ties}, {@code dare_*} and {@code magnitude_prune} combinations.
 * Every task tensor is a flat row-major {@code float[]} of one common length; the arithmetic is float32 in PEFT's
 * order of operations (prune each task, elect a sign on the pruned, unweighted tasks, then weight and merge).
 */
final class TaskArithmetic {

    /** The merge functions of {@code merge_utils}. */
    enum Merge {
        /** {@code task_arithmetic}: {@code Σ w_i t_i}. */
        LINEAR,
        /** {@code ties}: magnitude pruning, sign election, disjoint merge. */
        TIES,
        /** {@code dare_linear}: random pruning with rescaling, then {@code Σ w_i t_i}. */
        DARE_LINEAR,
        /** {@code dare_ties}: random pruning with rescaling, sign election, disjoint merge. */
        DARE_TIES,
        /** {@code magnitude_prune}: magnitude pruning, then {@code Σ w_i t_i}. */
        MAGNITUDE_PRUNE;

        boolean random() {
            return this == DARE_LINEAR || this == DARE_TIES;
        }

        boolean electsSign() {
            return this == TIES || this == DARE_TIES;
        }
    }

    private TaskArithmetic() {}

    /**
     * Merges task tensors as the {@code merge_utils} function of the same name.
     *
     * @param how the merge
     * @param tasks the task tensors, all of one length (not modified)
     * @param weights one weight per task (PEFT's float32 weight tensor)
     * @param density the fraction of each task's values to keep (ignored by {@code LINEAR}; ≥ 1 prunes nothing)
     * @param frequency {@code majority_sign_method="frequency"} (else {@code "total"}); only for the ties merges
     * @param random the source of DARE's Bernoulli masks (only drawn from by the DARE merges with density &lt; 1)
     * @return a new merged array
     */
    static float[] merge(
            Merge how, List<float[]> tasks, float[] weights, double density, boolean frequency, Random random) {
        int n = tasks.get(0).length;
        List<float[]> pruned = new ArrayList<>();
        for (float[] t : tasks) {
            if (t.length != n) {
                throw new IllegalArgumentException("Task tensors differ in size: " + t.length + " vs " + n);
            }
            pruned.add(
                    switch (how) {
                        case LINEAR -> t;
                        case TIES, MAGNITUDE_PRUNE -> magnitudePrune(t, density);
                        case DARE_LINEAR, DARE_TIES -> randomPrune(t, density, random);
                    });
        }
        return how.electsSign()
                ? disjointMerge(pruned, weights, majoritySign(pruned, frequency))
                : weightedSum(pruned, weights);
    }

    /**
     * {@code magnitude_based_pruning} (through {@code prune}): keeps the {@code k = int(density · n)} entries of
     * largest magnitude, zeroes the rest. Among equal magnitudes at the threshold the lower indices are kept (torch's
     * {@code topk} leaves that order unspecified).
     *
     * @param t the task tensor (not modified)
     * @param density the fraction to keep; ≥ 1 returns {@code t} itself, unpruned, as PEFT does
     * @return the pruned tensor
     */
    static float[] magnitudePrune(float[] t, double density) {
        if (density >= 1) {
            return t;
        }
        int k = (int) (density * t.length); // Python's int(): truncation
        float[] out = new float[t.length];
        if (k == 0) {
            return out;
        }
        float[] mags = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            mags[i] = Math.abs(t[i]);
        }
        float[] sorted = mags.clone();
        Arrays.sort(sorted);
        float threshold = sorted[t.length - k];
        int atThreshold = k;
        for (float m : mags) {
            if (m > threshold) {
                atThreshold--;
            }
        }
        for (int i = 0; i < t.length; i++) {
            if (mags[i] > threshold) {
                out[i] = t[i];
            } else if (mags[i] == threshold && atThreshold > 0) {
                out[i] = t[i];
                atThreshold--;
            }
        }
        return out;
    }

    /**
     * {@code random_pruning} with {@code rescale=True}: each entry is kept independently with probability
     * {@code density} (one {@code random.nextDouble() < (float) density} per entry, in index order) and divided by
     * {@code (float) density} in float32, as torch divides a float32 tensor by a Python float; the others are zero.
     *
     * @param t the task tensor (not modified)
     * @param density the keep probability in (0, 1]; ≥ 1 returns {@code t} itself without drawing
     * @param random the source of the Bernoulli draws
     * @return the pruned, rescaled tensor
     */
    static float[] randomPrune(float[] t, double density, Random random) {
        if (density >= 1) {
            return t;
        }
        float d = (float) density;
        float[] out = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            if (random.nextDouble() < d) {
                out[i] = t[i] / d;
            }
        }
        return out;
    }

    /**
     * {@code calculate_majority_sign_mask}'s elected sign per entry: the sign of {@code Σ t_i} ({@code "total"}) or
     * of {@code Σ sign(t_i)} ({@code "frequency"}), +1 where that sum is zero.
     */
    static int[] majoritySign(List<float[]> tasks, boolean frequency) {
        int n = tasks.get(0).length;
        int[] sign = new int[n];
        for (int i = 0; i < n; i++) {
            float sum = 0f;
            for (float[] t : tasks) {
                sum += frequency ? sign(t[i]) : t[i];
            }
            sign[i] = sum >= 0 ? 1 : -1;
        }
        return sign;
    }

    /**
     * {@code disjoint_merge} of the weighted tasks: per entry, the sum of {@code w_i t_i} over the tasks whose sign
     * is the elected one, divided by their count (by 1 if none).
     */
    static float[] disjointMerge(List<float[]> tasks, float[] weights, int[] majority) {
        int n = tasks.get(0).length;
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            float sum = 0f;
            int count = 0;
            for (int j = 0; j < tasks.size(); j++) {
                float v = tasks.get(j)[i];
                if (sign(v) == majority[i]) {
                    sum += v * weights[j];
                    count++;
                }
            }
            out[i] = sum / Math.max(count, 1);
        }
        return out;
    }

    /** {@code Σ w_i t_i} per entry, in task order. */
    static float[] weightedSum(List<float[]> tasks, float[] weights) {
        int n = tasks.get(0).length;
        float[] out = new float[n];
        for (int j = 0; j < tasks.size(); j++) {
            float[] t = tasks.get(j);
            for (int i = 0; i < n; i++) {
                out[i] += t[i] * weights[j];
            }
        }
        return out;
    }

    /** torch's sign: -1, 0 or 1 (0 for ±0 and NaN, which then match no elected sign). */
    private static int sign(float v) {
        return v > 0 ? 1 : v < 0 ? -1 : 0;
    }
}
