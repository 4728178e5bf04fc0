package dev.delora.djl.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * Length-grouped batch order: transformers' {@code group_by_length=True} ({@code LengthGroupedSampler}, whose order is
 * {@code get_length_grouped_indices} in {@code trainer_pt_utils.py}). Rows of similar length share a batch, so
 * dynamic padding pads less, while the order stays random from one epoch to the next.
 *
 * <p>The order, as in transformers: a random permutation of {@code 0..n-1}; cut into megabatches of
 * {@link #megabatchSize} indices; each megabatch sorted by length, longest first (a stable sort: equal lengths keep
 * their permuted order); then the first element of the megabatch that starts with the longest row (the first such
 * megabatch) swaps places with the first element of the whole list, so the longest batch runs first and an
 * out-of-memory shows at once. {@link #of} cuts that order into consecutive batches.
 *
 * <p>What differs from transformers: the permutation comes from a {@link Random} (a Fisher–Yates shuffle, drawing as
 * {@link java.util.Collections#shuffle(List, Random)} does) instead of {@code torch.randperm}, so the same seed gives
 * another order than in Python; and no rows ({@code n = 0}) give an empty order instead of an error.
 */
public final class LengthGroupedBatches {

    /** transformers' cap on {@code mega_batch_mult}. */
    private static final int MAX_MEGA_BATCH_MULT = 50;

    private LengthGroupedBatches() {}

    /**
     * Returns the length-grouped order of {@code 0..lengths.length-1} cut into consecutive batches of
     * {@code batchSize} (the last one shorter when {@code batchSize} does not divide the number of rows). Every index
     * appears exactly once.
     *
     * @param lengths the length of each row (e.g. its token count without padding), each ≥ 0
     * @param batchSize the batch size, ≥ 1
     * @param random the generator of the permutation; one call draws {@code n − 1} ints from it
     * @return the batches, the one holding the longest row first
     * @throws IllegalArgumentException if an argument is null, {@code batchSize < 1} or a length is negative
     */
    public static List<int[]> of(int[] lengths, int batchSize, Random random) {
        int[] order = indices(lengths, batchSize, random);
        List<int[]> batches = new ArrayList<>((order.length + batchSize - 1) / batchSize);
        for (int s = 0; s < order.length; s += batchSize) {
            batches.add(Arrays.copyOfRange(order, s, Math.min(order.length, s + batchSize)));
        }
        return batches;
    }

    /**
     * Returns the length-grouped order of {@code 0..lengths.length-1}, transformers' {@code
     * get_length_grouped_indices(lengths, batch_size)} with the default {@code mega_batch_mult}: each slice of
     * {@code batchSize} consecutive indices is one batch of rows of similar length. Every index appears exactly once.
     *
     * @param lengths the length of each row, each ≥ 0
     * @param batchSize the batch size, ≥ 1
     * @param random the generator of the permutation; one call draws {@code n − 1} ints from it
     * @return the order; its first index is a longest row
     * @throws IllegalArgumentException if an argument is null, {@code batchSize < 1} or a length is negative
     */
    public static int[] indices(int[] lengths, int batchSize, Random random) {
        check(lengths, batchSize);
        if (random == null) {
            throw new IllegalArgumentException("random must not be null");
        }
        int n = lengths.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--) { // Fisher–Yates, Collections.shuffle's draws
            swap(order, i, random.nextInt(i + 1));
        }
        int mega = megabatchSize(n, batchSize);
        Comparator<Integer> longestFirst = (a, b) -> Integer.compare(lengths[b], lengths[a]);
        int longest = 0; // start of the first megabatch whose first row is a longest one
        for (int s = 0; s < n; s += mega) {
            Arrays.sort(order, s, Math.min(n, s + mega), longestFirst); // stable, as Python's sorted
            if (lengths[order[s]] > lengths[order[longest]]) {
                longest = s;
            }
        }
        if (n > 0) {
            swap(order, 0, longest);
        }
        return Arrays.stream(order).mapToInt(Integer::intValue).toArray();
    }

    /**
     * Returns the megabatch size, {@code mega_batch_mult · batchSize} with transformers' default
     * {@code mega_batch_mult = min(n // (4 · batchSize), 50)}, or 1 when that is 0 (fewer than
     * {@code 4 · batchSize} rows).
     *
     * @param n the number of rows, ≥ 0
     * @param batchSize the batch size, ≥ 1
     * @return the number of indices sorted together
     * @throws IllegalArgumentException if {@code n < 0} or {@code batchSize < 1}
     */
    public static int megabatchSize(int n, int batchSize) {
        if (n < 0) {
            throw new IllegalArgumentException("n must be >= 0, got " + n);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
        }
        long mult = Math.min(n / (4L * batchSize), MAX_MEGA_BATCH_MULT);
        return (int) (Math.max(1, mult) * batchSize); // mult > 1 only when 8 · batchSize <= n: fits an int
    }

    private static void check(int[] lengths, int batchSize) {
        if (lengths == null) {
            throw new IllegalArgumentException("lengths must not be null");
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
        }
        for (int i = 0; i < lengths.length; i++) {
            if (lengths[i] < 0) {
                throw new IllegalArgumentException("lengths[" + i + "] must be >= 0, got " + lengths[i]);
            }
        }
    }

    private static void swap(Integer[] a, int i, int j) {
        Integer t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}
