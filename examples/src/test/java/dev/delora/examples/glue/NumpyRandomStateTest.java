package dev.delora.examples.glue;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.delora.fixtures.Fixtures;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Checks the numpy port against published MT19937 values and permutations computed by numpy itself. */
class NumpyRandomStateTest {

    private static final String[] TASKS = {"cola", "sst2", "mrpc", "qqp", "stsb", "mnli", "qnli", "rte"};

    @Test
    void mt19937MatchesPublishedOutputsForDefaultSeed() {
        // 5489 is the reference implementation's default seed; the C++ standard ([rand.predef]) requires the
        // 10000th output of std::mt19937 (same init_genrand seeding) to be 4123659995.
        NumpyRandomState rs = new NumpyRandomState(5489);
        assertEquals(3499211612L, rs.nextUint32());
        long v = 0;
        for (int i = 2; i <= 10000; i++) {
            v = rs.nextUint32();
        }
        assertEquals(4123659995L, v);
    }

    @Test
    void firstEightIndicesMatchMethodsTable() {
        // Test vectors of methods.md section 5, computed there with numpy 2.4.6.
        assertPrefix(277, 42, 30, 126, 220, 142, 255, 236, 97, 215);
        assertPrefix(277, 46, 110, 265, 93, 190, 12, 224, 81, 230);
        assertPrefix(408, 42, 70, 218, 258, 33, 42, 77, 137, 334);
        assertPrefix(408, 46, 400, 352, 254, 112, 103, 249, 296, 390);
        assertPrefix(872, 42, 794, 319, 382, 779, 422, 327, 803, 136);
        assertPrefix(872, 46, 409, 138, 664, 708, 586, 2, 265, 36);
        assertPrefix(1043, 42, 1035, 280, 535, 822, 643, 982, 560, 231);
        assertPrefix(1500, 42, 1116, 1368, 422, 413, 451, 861, 1063, 741);
        assertPrefix(5463, 42, 5061, 1084, 655, 2153, 711, 4516, 4674, 168);
        assertPrefix(9815, 42, 3344, 3852, 5009, 5398, 2335, 647, 7823, 8927);
    }

    @Test
    void permutationsMatchNumpyFixtures() {
        int full = 0;
        for (String task : TASKS) {
            JsonObject o = JsonParser.parseString(Fixtures.text("glue/splits/" + task + ".json"))
                    .getAsJsonObject();
            int n = o.get("n").getAsInt();
            for (Map.Entry<String, com.google.gson.JsonElement> e :
                    o.getAsJsonObject("permutations").entrySet()) {
                int[] expected = ints(e.getValue().getAsJsonArray());
                int[] actual = new NumpyRandomState(Long.parseLong(e.getKey())).permutation(n);
                assertArrayEquals(expected, Arrays.copyOf(actual, expected.length), task + " seed " + e.getKey());
                if (expected.length == n) {
                    full++;
                }
            }
        }
        assertEquals(4, full, "rte and mrpc at seeds 42 and 46 are stored in full");
    }

    @Test
    void permutationIsAPermutation() {
        int[] p = new NumpyRandomState(43).permutation(1000);
        int[] sorted = p.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < sorted.length; i++) {
            assertEquals(i, sorted[i]);
        }
        assertEquals(0, new NumpyRandomState(1).permutation(0).length);
        assertArrayEquals(new int[] {0}, new NumpyRandomState(1).permutation(1));
    }

    @Test
    void randomIntervalZeroConsumesNoDraw() {
        NumpyRandomState a = new NumpyRandomState(7);
        NumpyRandomState b = new NumpyRandomState(7);
        assertEquals(0, a.randomInterval(0));
        assertEquals(b.nextUint32(), a.nextUint32());
    }

    @Test
    void rejectsSeedsNumpyRejects() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new NumpyRandomState(-1));
        assertTrue(e.getMessage().contains("2**32 - 1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new NumpyRandomState(1L << 32));
        new NumpyRandomState(0xffffffffL); // the largest legal seed
    }

    private static void assertPrefix(int n, long seed, int... expected) {
        int[] p = new NumpyRandomState(seed).permutation(n);
        assertArrayEquals(expected, Arrays.copyOf(p, expected.length), "n=" + n + " seed=" + seed);
    }

    static int[] ints(JsonArray a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsInt();
        }
        return out;
    }
}
