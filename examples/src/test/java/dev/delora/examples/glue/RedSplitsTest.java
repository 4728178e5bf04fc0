package dev.delora.examples.glue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.delora.fixtures.Fixtures;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Checks the RED split against methods.md section 5's table and numpy's permutations. */
class RedSplitsTest {

    @Test
    void sizesMatchTheProtocolTable() {
        // task, N(val), new val, new test (methods.md section 5; RTE is 138/139, CoLA reversed 522/521).
        Object[][] table = {
            {GlueTask.MNLI, 9815, 1000, 8815}, {GlueTask.QNLI, 5463, 1000, 4463},
            {GlueTask.QQP, 40430, 1000, 39430}, {GlueTask.SST2, 872, 436, 436},
            {GlueTask.MRPC, 408, 204, 204}, {GlueTask.STSB, 1500, 750, 750},
            {GlueTask.RTE, 277, 138, 139}, {GlueTask.COLA, 1043, 522, 521},
        };
        for (Object[] row : table) {
            GlueTask task = (GlueTask) row[0];
            int n = (int) row[1];
            RedSplits.Split s = RedSplits.split(task, n, 42);
            assertEquals(row[2], s.validation().size(), task + " validation");
            assertEquals(row[3], s.test().size(), task + " test");
            Set<Integer> all = new HashSet<>(s.validation());
            all.addAll(s.test());
            assertEquals(n, all.size(), task + ": the parts must be disjoint and cover the dev set");
        }
    }

    @Test
    void fullPermutationsGiveExactParts() {
        for (String task : List.of("rte", "mrpc")) {
            JsonObject o = fixture(task);
            int n = o.get("n").getAsInt();
            for (String seed : List.of("42", "46")) {
                int[] perm = NumpyRandomStateTest.ints(
                        o.getAsJsonObject("permutations").getAsJsonArray(seed));
                assertEquals(n, perm.length);
                RedSplits.Split s = RedSplits.split(GlueTask.of(task), n, Long.parseLong(seed));
                int k = n / 2;
                assertEquals(boxed(Arrays.copyOfRange(perm, 0, k)), s.validation(), task + " " + seed);
                assertEquals(boxed(Arrays.copyOfRange(perm, k, n)), s.test(), task + " " + seed);
            }
        }
    }

    @Test
    void prefixesLandInTheRightPart() {
        // The first 64 permutation entries open the validation part, except for CoLA, where they open the test part.
        for (GlueTask task : GlueTask.values()) {
            JsonObject o = fixture(task.id());
            int n = o.get("n").getAsInt();
            for (Map.Entry<String, JsonElement> e :
                    o.getAsJsonObject("permutations").entrySet()) {
                List<Integer> prefix = boxed(
                                NumpyRandomStateTest.ints(e.getValue().getAsJsonArray()))
                        .subList(0, 64);
                RedSplits.Split s = RedSplits.split(task, n, Long.parseLong(e.getKey()));
                List<Integer> first = task == GlueTask.COLA ? s.test() : s.validation();
                assertEquals(prefix, first.subList(0, 64), task + " seed " + e.getKey());
            }
        }
    }

    @Test
    void seedsGiveDifferentPartitions() {
        assertTrue(!RedSplits.split(GlueTask.RTE, 277, 42)
                .validation()
                .equals(RedSplits.split(GlueTask.RTE, 277, 43).validation()));
    }

    @Test
    void kIsCappedLikePythonSlicing() {
        assertEquals(1000, RedSplits.k(GlueTask.QNLI, 5463));
        assertEquals(300, RedSplits.k(GlueTask.MNLI, 300));
        RedSplits.Split s = RedSplits.split(GlueTask.MNLI, 300, 42);
        assertEquals(300, s.validation().size());
        assertEquals(0, s.test().size());
    }

    @Test
    void applyPicksRowsInPermutationOrderAndChecksBounds() {
        List<String> rows = IntStream.range(0, 10).mapToObj(i -> "r" + i).toList();
        RedSplits.Split s = new RedSplits.Split(List.of(3, 1), List.of(9, 0));
        assertEquals(List.of(List.of("r3", "r1"), List.of("r9", "r0")), s.apply(rows));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> new RedSplits.Split(List.of(12), List.of()).apply(rows));
        assertTrue(e.getMessage().contains("12") && e.getMessage().contains("10 dev rows"), e.getMessage());
    }

    private static JsonObject fixture(String task) {
        return JsonParser.parseString(Fixtures.text("glue/splits/" + task + ".json"))
                .getAsJsonObject();
    }

    private static List<Integer> boxed(int[] a) {
        return Arrays.stream(a).boxed().toList();
    }
}
