package dev.delora.examples.glue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The RED / DeLoRA GLUE protocol's split of an official dev set into a new validation part (model selection) and
 * a new test part (the reported number), from DeLoRA's {@code data_utils.py::load_glue_data_final}:
 *
 * <pre>
 * perm = np.random.RandomState(seed).permutation(n)
 * k = 1000 if task in (mnli, qnli, qqp) else n // 2
 * cola:   test = perm[:k], val = perm[k:]
 * others: val = perm[:k],  test = perm[k:]
 * </pre>
 *
 * The seed is the run's training seed, so every seed has its own partition. Indices are 0-based row positions in
 * the dev file (Hugging Face order) and keep the permutation's order, as {@code Dataset.select} does.
 */
public final class RedSplits {

    /** Size of the new validation part for the three large tasks. */
    public static final int LARGE_TASK_VALIDATION_SIZE = 1000;

    private RedSplits() {}

    /**
     * The two parts of a split dev set.
     *
     * @param validation dev-row indices used for model selection, in permutation order
     * @param test dev-row indices used for the reported metric, in permutation order
     */
    public record Split(List<Integer> validation, List<Integer> test) {
        /** Validates and copies the lists. */
        public Split {
            validation = List.copyOf(Objects.requireNonNull(validation, "validation"));
            test = List.copyOf(Objects.requireNonNull(test, "test"));
        }

        /**
         * Picks the rows of each part from the dev examples.
         *
         * @param <T> the row type
         * @param dev the dev rows in file order
         * @return the validation rows then the test rows
         * @throws IllegalArgumentException if an index is outside {@code dev}
         */
        public <T> List<List<T>> apply(List<T> dev) {
            return List.of(pick(dev, validation), pick(dev, test));
        }

        private static <T> List<T> pick(List<T> rows, List<Integer> idx) {
            List<T> out = new ArrayList<>(idx.size());
            for (int i : idx) {
                if (i >= rows.size()) {
                    throw new IllegalArgumentException("split index " + i + " is outside the " + rows.size()
                            + " dev rows; was the split made for a different dev set size?");
                }
                out.add(rows.get(i));
            }
            return List.copyOf(out);
        }
    }

    /**
     * Returns k, the size of {@code perm[:k]}: 1000 for MNLI, QNLI and QQP, {@code n / 2} otherwise, capped at n
     * as Python slicing is.
     *
     * @param task the task
     * @param n the number of dev rows
     * @return k
     */
    public static int k(GlueTask task, int n) {
        int k = switch (task) {
            case MNLI, QNLI, QQP -> LARGE_TASK_VALIDATION_SIZE;
            default -> n / 2;
        };
        return Math.min(k, n);
    }

    /**
     * Splits a dev set of n rows for a seed.
     *
     * @param task the task (decides k and CoLA's reversed order)
     * @param n the number of dev rows, ≥ 0
     * @param seed the run seed, 0 to 2<sup>32</sup>−1
     * @return the validation and test indices
     */
    public static Split split(GlueTask task, int n, long seed) {
        Objects.requireNonNull(task, "task");
        int[] perm = new NumpyRandomState(seed).permutation(n);
        int k = k(task, n);
        List<Integer> head = Arrays.stream(perm, 0, k).boxed().toList();
        List<Integer> tail = Arrays.stream(perm, k, n).boxed().toList();
        // RED (and DeLoRA after it) takes CoLA's test part first; kept so CoLA numbers are comparable.
        return task == GlueTask.COLA ? new Split(tail, head) : new Split(head, tail);
    }
}
