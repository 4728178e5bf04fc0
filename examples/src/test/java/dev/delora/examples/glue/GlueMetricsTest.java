package dev.delora.examples.glue;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.delora.fixtures.Fixtures;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Compares with scikit-learn / SciPy values from {@code parity/glue_metrics.py} ({@code glue/metrics.json}). */
class GlueMetricsTest {

    private static final double TOL = 1e-9;
    private static final JsonObject GOLDEN =
            JsonParser.parseString(Fixtures.text("glue/metrics.json")).getAsJsonObject();

    @Test
    void matchesSklearnAndScipy() {
        int checked = 0;
        for (JsonElement el : GOLDEN.getAsJsonArray("cases")) {
            JsonObject c = el.getAsJsonObject();
            String name = c.get("name").getAsString();
            JsonObject m = c.getAsJsonObject("metrics");
            if (c.get("kind").getAsString().equals("regression")) {
                double[] p = doubles(c.getAsJsonArray("predictions"));
                double[] r = doubles(c.getAsJsonArray("references"));
                assertClose(m.get("pearson"), GlueMetrics.pearson(p, r), name + " pearson");
                assertClose(m.get("spearmanr"), GlueMetrics.spearman(p, r), name + " spearmanr");
                checked += 2;
            } else {
                int[] p = ints(c.getAsJsonArray("predictions"));
                int[] r = ints(c.getAsJsonArray("references"));
                assertClose(m.get("accuracy"), GlueMetrics.accuracy(p, r), name + " accuracy");
                assertClose(m.get("matthews_correlation"), GlueMetrics.matthewsCorrelation(p, r), name + " mcc");
                checked += 2;
                if (m.has("f1")) {
                    assertClose(m.get("f1"), GlueMetrics.f1(p, r), name + " f1");
                    checked++;
                }
            }
        }
        assertEquals(33, checked);
    }

    @Test
    void computeReturnsEvaluateGlueKeysInOrder() {
        Map<String, JsonObject> cases = new HashMap<>();
        for (JsonElement el : GOLDEN.getAsJsonArray("cases")) {
            cases.put(el.getAsJsonObject().get("name").getAsString(), el.getAsJsonObject());
        }
        for (JsonElement el : GOLDEN.getAsJsonArray("glue")) {
            JsonObject g = el.getAsJsonObject();
            GlueTask task = GlueTask.of(g.get("task").getAsString());
            JsonObject c = cases.get(g.get("case").getAsString());
            Map<String, Double> got = GlueMetrics.compute(
                    task, doubles(c.getAsJsonArray("predictions")), doubles(c.getAsJsonArray("references")));
            List<String> keys = new ArrayList<>();
            for (JsonElement kv : g.getAsJsonArray("expected")) {
                String key = kv.getAsJsonArray().get(0).getAsString();
                keys.add(key);
                assertClose(kv.getAsJsonArray().get(1), got.get(key), task + " " + key);
            }
            assertEquals(keys, new ArrayList<>(got.keySet()), task.id());
            assertEquals(task.selectionMetric(), keys.get(0));
        }
    }

    @Test
    void constantInputs() {
        // sklearn: MCC 0 for constant predictions; SciPy: Pearson/Spearman of a constant are NaN.
        assertEquals(0.0, GlueMetrics.matthewsCorrelation(new int[] {1, 1, 1, 1}, new int[] {0, 1, 1, 0}));
        assertEquals(0.0, GlueMetrics.matthewsCorrelation(new int[] {0, 1, 1, 0}, new int[] {1, 1, 1, 1}));
        assertTrue(Double.isNaN(GlueMetrics.pearson(new double[] {2, 2, 2}, new double[] {1, 2, 3})));
        assertTrue(Double.isNaN(GlueMetrics.spearman(new double[] {1, 2, 3}, new double[] {4, 4, 4})));
        assertTrue(Double.isNaN(GlueMetrics.spearman(new double[] {1, Double.NaN, 3}, new double[] {1, 2, 3})));
    }

    @Test
    void averageRanksLikeScipyRankdata() {
        // scipy.stats.rankdata([10, 20, 20, 30, 20, 5]) = [2, 4, 4, 6, 4, 1]
        assertArrayEquals(
                new double[] {2, 4, 4, 6, 4, 1}, GlueMetrics.averageRanks(new double[] {10, 20, 20, 30, 20, 5}));
    }

    @Test
    void rejectsBadInput() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> GlueMetrics.accuracy(new int[] {1, 0}, new int[] {1}));
        assertTrue(e.getMessage().contains("2 vs 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GlueMetrics.f1(new int[] {2}, new int[] {1}));
        assertTrue(e.getMessage().contains("predictions[0] = 2"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> GlueMetrics.compute(GlueTask.RTE, new double[] {0.5}, new double[] {1}));
        assertTrue(e.getMessage().contains("class ids"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> GlueMetrics.pearson(new double[] {1}, new double[] {1}));
        assertThrows(IllegalArgumentException.class, () -> GlueMetrics.accuracy(new int[0], new int[0]));
    }

    private static void assertClose(JsonElement expected, Double actual, String what) {
        if (expected.isJsonNull()) {
            assertTrue(actual != null && Double.isNaN(actual), what + ": expected NaN (null), got " + actual);
        } else {
            assertEquals(expected.getAsDouble(), actual, TOL, what);
        }
    }

    private static double[] doubles(JsonArray a) {
        double[] out = new double[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).getAsDouble();
        }
        return out;
    }

    private static int[] ints(JsonArray a) {
        return NumpyRandomStateTest.ints(a);
    }
}
