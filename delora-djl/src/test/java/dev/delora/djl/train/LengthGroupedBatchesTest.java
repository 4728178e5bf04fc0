package dev.delora.djl.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** transformers' {@code get_length_grouped_indices} order, checked by its properties and by a literal re-statement. */
class LengthGroupedBatchesTest {

    private static int[] randomLengths(int n, long seed) {
        Random r = new Random(seed);
        return IntStream.range(0, n).map(i -> 1 + r.nextInt(128)).toArray();
    }

    /** Few long rows among many short ones, as GLUE sentences are. */
    private static int[] skewedLengths(int n, long seed) {
        Random r = new Random(seed);
        return IntStream.range(0, n)
                .map(i -> r.nextInt(10) == 0 ? 100 + r.nextInt(29) : 8 + r.nextInt(24))
                .toArray();
    }

    private static int[] flatten(List<int[]> batches) {
        return batches.stream().flatMapToInt(Arrays::stream).toArray();
    }

    @Test
    void everyIndexAppearsExactlyOnceInBatchesOfTheBatchSize() {
        for (int n : new int[] {0, 1, 5, 7, 8, 9, 31, 32, 33, 100, 257, 1000, 2501}) {
            for (int batch : new int[] {1, 3, 8, 16, 64}) {
                List<int[]> batches = LengthGroupedBatches.of(randomLengths(n, n), batch, new Random(7));
                int[] all = flatten(batches);
                Arrays.sort(all);
                assertArrayEquals(IntStream.range(0, n).toArray(), all, "n " + n + ", batch " + batch);
                assertEquals((n + batch - 1) / batch, batches.size(), "n " + n + ", batch " + batch);
                for (int b = 0; b < batches.size(); b++) {
                    int expected = b < batches.size() - 1 ? batch : n - batch * (batches.size() - 1);
                    assertEquals(expected, batches.get(b).length, "n " + n + ", batch " + batch + ", batch #" + b);
                }
            }
        }
    }

    @Test
    void theFirstBatchHoldsTheLongestRow() {
        for (int n : new int[] {1, 9, 100, 1000, 5000}) {
            for (long seed = 0; seed < 5; seed++) {
                int[] lengths = randomLengths(n, seed + 100);
                int max = Arrays.stream(lengths).max().orElseThrow();
                int[] order = LengthGroupedBatches.indices(lengths, 8, new Random(seed));
                assertEquals(max, lengths[order[0]], "n " + n + ", seed " + seed);
            }
        }
    }

    @Test
    void eachMegabatchIsSortedLongestFirstButForTheSwappedHead() {
        int n = 5000;
        int batch = 16; // 5000 // 64 = 78 -> mult 50 -> megabatches of 800
        int mega = LengthGroupedBatches.megabatchSize(n, batch);
        assertEquals(800, mega);
        int[] lengths = randomLengths(n, 3);
        int[] order = LengthGroupedBatches.indices(lengths, batch, new Random(11));
        int unsortedHeads = 0;
        for (int s = 0; s < n; s += mega) {
            int end = Math.min(n, s + mega);
            for (int i = s + 2; i < end; i++) { // the rest of a megabatch is sorted
                assertTrue(lengths[order[i - 1]] >= lengths[order[i]], "position " + i);
            }
            if (end - s > 1 && lengths[order[s]] < lengths[order[s + 1]]) {
                unsortedHeads++; // the megabatch whose longest row moved to position 0 took the first head
            }
        }
        assertTrue(unsortedHeads <= 1, "only the swap breaks the order, got " + unsortedHeads);
    }

    @Test
    void megaBatchMultIsTransformersDefault() {
        assertEquals(24, LengthGroupedBatches.megabatchSize(100, 8)); // 100 // 32 = 3
        assertEquals(8, LengthGroupedBatches.megabatchSize(31, 8)); // 31 // 32 = 0 -> 1
        assertEquals(8, LengthGroupedBatches.megabatchSize(0, 8));
        assertEquals(16, LengthGroupedBatches.megabatchSize(64, 8)); // 64 // 32 = 2
        assertEquals(400, LengthGroupedBatches.megabatchSize(100_000, 8)); // capped at 50
        assertEquals(Integer.MAX_VALUE, LengthGroupedBatches.megabatchSize(10, Integer.MAX_VALUE));

        // n = 100, batch 8: megabatches of 24 (positions 0-23, 24-47, 48-71, 72-95, 96-99), each sorted after the swap
        int[] lengths = randomLengths(100, 5);
        int[] order = LengthGroupedBatches.indices(lengths, 8, new Random(1));
        assertArrayEquals(reference(lengths, 8, 3, new Random(1)), order);
    }

    @Test
    void matchesALiteralRestatementOfTransformers() {
        for (int n : new int[] {1, 2, 17, 100, 1000, 4321}) {
            for (int batch : new int[] {1, 4, 32}) {
                int[] lengths = randomLengths(n, n + batch);
                int mult = Math.max(1, Math.min(n / (batch * 4), 50));
                for (long seed = 0; seed < 3; seed++) {
                    assertArrayEquals(
                            reference(lengths, batch, mult, new Random(seed)),
                            LengthGroupedBatches.indices(lengths, batch, new Random(seed)),
                            "n " + n + ", batch " + batch + ", seed " + seed);
                }
            }
        }
    }

    @Test
    void equalLengthsKeepTheShuffledOrderOfPlainRandomBatching() {
        int[] lengths = new int[77];
        Arrays.fill(lengths, 12);
        List<Integer> shuffled = new ArrayList<>(IntStream.range(0, 77).boxed().toList());
        Collections.shuffle(shuffled, new Random(42));
        assertArrayEquals(
                shuffled.stream().mapToInt(Integer::intValue).toArray(),
                LengthGroupedBatches.indices(lengths, 4, new Random(42)),
                "a stable sort and a swap of position 0 with itself leave the permutation as it was");
    }

    @Test
    void theSameSeedGivesTheSameOrderAndAnotherSeedAnother() {
        int[] lengths = randomLengths(500, 9);
        int[] a = flatten(LengthGroupedBatches.of(lengths, 8, new Random(42)));
        int[] b = flatten(LengthGroupedBatches.of(lengths, 8, new Random(42)));
        int[] c = flatten(LengthGroupedBatches.of(lengths, 8, new Random(43)));
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(a, c));

        // successive epochs drawing from one generator differ too
        Random shared = new Random(42);
        int[] epoch1 = flatten(LengthGroupedBatches.of(lengths, 8, shared));
        int[] epoch2 = flatten(LengthGroupedBatches.of(lengths, 8, shared));
        assertArrayEquals(a, epoch1);
        assertFalse(Arrays.equals(epoch1, epoch2));
    }

    @Test
    void padsFewerTokensThanRandomBatchingOnSkewedLengths() {
        for (long seed = 0; seed < 5; seed++) {
            int[] lengths = skewedLengths(3000, seed);
            int batch = 32;
            List<Integer> shuffled =
                    new ArrayList<>(IntStream.range(0, lengths.length).boxed().toList());
            Collections.shuffle(shuffled, new Random(seed));
            List<int[]> random = new ArrayList<>();
            for (int s = 0; s < shuffled.size(); s += batch) {
                random.add(shuffled.subList(s, Math.min(shuffled.size(), s + batch)).stream()
                        .mapToInt(Integer::intValue)
                        .toArray());
            }
            long randomTokens = paddedTokens(lengths, random);
            long groupedTokens = paddedTokens(lengths, LengthGroupedBatches.of(lengths, batch, new Random(seed)));
            long realTokens = Arrays.stream(lengths).asLongStream().sum();
            assertTrue(groupedTokens >= realTokens);
            // random batches almost always hold a long row; grouped ones mostly do not
            assertTrue(
                    groupedTokens < 0.6 * randomTokens,
                    "seed " + seed + ": grouped " + groupedTokens + " vs random " + randomTokens);
        }
    }

    @Test
    void rejectsBadArgumentsNamingThem() {
        Random r = new Random(0);
        assertMessage("lengths must not be null", () -> LengthGroupedBatches.of(null, 8, r));
        assertMessage("batchSize must be >= 1, got 0", () -> LengthGroupedBatches.of(new int[] {1}, 0, r));
        assertMessage("lengths[1] must be >= 0, got -3", () -> LengthGroupedBatches.indices(new int[] {1, -3}, 2, r));
        assertMessage("random must not be null", () -> LengthGroupedBatches.of(new int[] {1}, 1, null));
        assertMessage("n must be >= 0, got -1", () -> LengthGroupedBatches.megabatchSize(-1, 8));
        assertMessage("batchSize must be >= 1, got -2", () -> LengthGroupedBatches.megabatchSize(8, -2));
    }

    private static void assertMessage(String message, org.junit.jupiter.api.function.Executable call) {
        assertEquals(message, assertThrows(IllegalArgumentException.class, call).getMessage());
    }

    /** Sum over batches of batch size × the batch's longest row: what dynamic padding computes on. */
    private static long paddedTokens(int[] lengths, List<int[]> batches) {
        long total = 0;
        for (int[] b : batches) {
            total += (long) b.length
                    * Arrays.stream(b).map(i -> lengths[i]).max().orElse(0);
        }
        return total;
    }

    /**
     * {@code get_length_grouped_indices} step by step on lists, with {@code Collections.shuffle} for
     * {@code torch.randperm}.
     */
    private static int[] reference(int[] lengths, int batchSize, int megaBatchMult, Random random) {
        List<Integer> indices =
                new ArrayList<>(IntStream.range(0, lengths.length).boxed().toList());
        Collections.shuffle(indices, random);
        int megabatchSize = megaBatchMult * batchSize;
        List<List<Integer>> megabatches = new ArrayList<>();
        for (int i = 0; i < lengths.length; i += megabatchSize) {
            List<Integer> m = new ArrayList<>(indices.subList(i, Math.min(lengths.length, i + megabatchSize)));
            m.sort(Comparator.comparingInt((Integer k) -> lengths[k]).reversed()); // stable, as sorted(reverse=True)
            megabatches.add(m);
        }
        int maxIdx = 0; // torch.argmax: the first maximum
        for (int k = 1; k < megabatches.size(); k++) {
            if (lengths[megabatches.get(k).get(0)]
                    > lengths[megabatches.get(maxIdx).get(0)]) {
                maxIdx = k;
            }
        }
        Integer first = megabatches.get(0).get(0);
        megabatches.get(0).set(0, megabatches.get(maxIdx).get(0));
        megabatches.get(maxIdx).set(0, first);
        return megabatches.stream()
                .flatMap(List::stream)
                .mapToInt(Integer::intValue)
                .toArray();
    }
}
