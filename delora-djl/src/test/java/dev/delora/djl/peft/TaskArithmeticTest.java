package dev.delora.djl.peft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.delora.djl.peft.TaskArithmetic.Merge;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link TaskArithmetic} against PEFT's {@code merge_utils} by hand-computed cases and, for DARE's random pruning,
 * by the properties that must hold on a large tensor.
 */
class TaskArithmeticTest {

    private static float[] gaussian(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    @Test
    void randomPruningKeepsAboutDensityRescaledAndZeroesTheRest() {
        int n = 200_000;
        float[] t = gaussian(n, 1);
        for (double density : new double[] {0.1, 0.5, 0.9}) {
            float[] p = TaskArithmetic.randomPrune(t, density, new Random(7));
            float d = (float) density;
            int kept = 0;
            for (int i = 0; i < n; i++) {
                if (p[i] != 0) {
                    kept++;
                    assertEquals(t[i] / d, p[i], 0f, "kept values are divided by (float) density, in float32");
                } else {
                    assertEquals(0, Float.floatToRawIntBits(p[i]), "pruned values are exactly +0");
                }
            }
            double sigma = Math.sqrt(density * (1 - density) / n);
            double fraction = (double) kept / n;
            assertTrue(Math.abs(fraction - density) <= 5 * sigma, density + ": kept " + fraction);
            assertArrayEquals(p, TaskArithmetic.randomPrune(t, density, new Random(7)), "one seed, one mask");
        }
        Random untouched = new Random(3);
        assertSame(t, TaskArithmetic.randomPrune(t, 1.0, untouched), "density 1 prunes nothing");
        assertEquals(new Random(3).nextLong(), untouched.nextLong(), "and draws nothing");
    }

    @Test
    void magnitudePruningKeepsTheLargestIntDensityTimesN() {
        float[] t = gaussian(1001, 2);
        float[] p = TaskArithmetic.magnitudePrune(t, 0.3);
        int k = (int) (0.3 * 1001); // 300: Python's int()
        float minKept = Float.MAX_VALUE;
        float maxPruned = 0;
        int kept = 0;
        for (int i = 0; i < t.length; i++) {
            if (p[i] != 0) {
                kept++;
                assertEquals(t[i], p[i], 0f);
                minKept = Math.min(minKept, Math.abs(t[i]));
            } else {
                maxPruned = Math.max(maxPruned, Math.abs(t[i]));
            }
        }
        assertEquals(k, kept);
        assertTrue(minKept > maxPruned);
        // equal magnitudes at the threshold: the lower indices win
        assertArrayEquals(
                new float[] {0, 2, -2, 0, 3}, TaskArithmetic.magnitudePrune(new float[] {1, 2, -2, 2, 3}, 0.6));
        assertArrayEquals(new float[3], TaskArithmetic.magnitudePrune(new float[] {1, 2, 3}, 0.0));
        assertArrayEquals(new float[3], TaskArithmetic.magnitudePrune(new float[] {1, 2, 3}, 0.3)); // int(0.9) = 0
    }

    @Test
    void tiesElectsASignAndAveragesTheAgreeingWeightedValues() {
        // three tasks, four entries, no pruning (density 1); weights 1, 2, 1
        List<float[]> tasks = List.of(new float[] {1, -3, 0, 2}, new float[] {2, 1, 0, -1}, new float[] {-1, 1, 0, -1});
        float[] w = {1, 2, 1};
        // total: sums 2, -1, 0, 0 -> +, -, +, +; frequency: sign sums 1, 1, 0, -1 -> +, +, +, -
        float[] total = TaskArithmetic.merge(Merge.TIES, tasks, w, 1.0, false, null);
        assertArrayEquals(new float[] {(1 + 4) / 2f, -3, 0, 2}, total);
        float[] frequency = TaskArithmetic.merge(Merge.TIES, tasks, w, 1.0, true, null);
        assertArrayEquals(new float[] {(1 + 4) / 2f, (2 + 1) / 2f, 0, (-2 - 1) / 2f}, frequency);
        assertArrayEquals(
                new float[] {1 + 4 - 1, -3 + 2 + 1, 0, 2 - 2 - 1},
                TaskArithmetic.merge(Merge.LINEAR, tasks, w, 0.1, false, null),
                "task_arithmetic ignores density");
        // the sign is elected on the pruned, unweighted tasks: a heavy weight does not change it
        List<float[]> two = List.of(new float[] {3}, new float[] {-1});
        assertArrayEquals(new float[] {3}, TaskArithmetic.merge(Merge.TIES, two, new float[] {1, 100}, 1, false, null));
        // magnitude_prune prunes each task, then sums the weighted tasks
        List<float[]> mp = List.of(new float[] {1, 4}, new float[] {-5, 2});
        assertArrayEquals(
                new float[] {-10, 4},
                TaskArithmetic.merge(Merge.MAGNITUDE_PRUNE, mp, new float[] {1, 2}, 0.5, false, null));
    }

    @Test
    void dareTiesAveragesOnlyKeptValuesOfTheElectedSign() {
        int n = 50_000;
        List<float[]> tasks = List.of(gaussian(n, 4), gaussian(n, 5));
        float[] w = {0.5f, 2f};
        float d = 0.4f;
        float[] out = TaskArithmetic.merge(Merge.DARE_TIES, tasks, w, d, false, new Random(11));
        Random replay = new Random(11);
        float[] p0 = TaskArithmetic.randomPrune(tasks.get(0), d, replay);
        float[] p1 = TaskArithmetic.randomPrune(tasks.get(1), d, replay);
        for (int i = 0; i < n; i++) {
            float sum = p0[i] + p1[i];
            int elected = sum >= 0 ? 1 : -1;
            float num = 0;
            int count = 0;
            if (Math.signum(p0[i]) == elected) {
                num += p0[i] * w[0];
                count++;
            }
            if (Math.signum(p1[i]) == elected) {
                num += p1[i] * w[1];
                count++;
            }
            assertEquals(num / Math.max(count, 1), out[i], 0f, "entry " + i);
        }
    }
}
