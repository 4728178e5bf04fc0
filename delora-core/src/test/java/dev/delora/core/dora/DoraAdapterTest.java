package dev.delora.core.dora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.delora.core.Dense;
import dev.delora.core.FrozenLinear;
import dev.delora.core.LinearAdapter;
import dev.delora.core.WeightUpdate;
import dev.delora.core.lora.LoraAdapter;
import dev.delora.core.lora.LoraConfig;
import dev.delora.core.method.AdapterMethods;
import dev.delora.core.method.ConfigFields;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** DoRA's magnitude init, forward, merge and update norm against the closed form in doubles. */
class DoraAdapterTest {

    private static final int IN = 12;
    private static final int OUT = 10;
    private static final int R = 4;

    private NDManager manager;
    private final Random rnd = new Random(3);

    @BeforeEach
    void setUp() {
        Engine.getInstance().setRandomSeed(7);
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private static DoraConfig config(boolean rslora) {
        return new DoraConfig(LoraConfig.builder()
                .r(R)
                .loraAlpha(8)
                .useRslora(rslora)
                .targetModules("q")
                .build());
    }

    /** W' = diag(m / ‖W + sBA‖) (W + sBA), in doubles. */
    private static double[][] merged(double[][] w, double[][] a, double[][] b, double s, double[] m) {
        double[][] ba = Dense.matmul(b, a);
        double[][] out = new double[w.length][w[0].length];
        for (int i = 0; i < w.length; i++) {
            double[] row = new double[w[0].length];
            for (int j = 0; j < row.length; j++) {
                row[j] = w[i][j] + s * ba[i][j];
            }
            double norm = Math.sqrt(java.util.Arrays.stream(row).map(v -> v * v).sum());
            for (int j = 0; j < row.length; j++) {
                out[i][j] = m[i] / norm * row[j];
            }
        }
        return out;
    }

    @Test
    void freshInitStartsAtTheBaseModule() {
        double[][] w = Dense.asFloat(Dense.random(rnd, OUT, IN));
        try (LinearAdapter adapter = config(false).create("q", Dense.toArray(manager, w), manager)) {
            float[] m =
                    adapter.parameters().get(DoraAdapter.MAGNITUDE).getArray().toFloatArray();
            for (int i = 0; i < OUT; i++) {
                assertEquals(Dense.rowNorm(w, i), m[i], 1e-5, "magnitude = ‖W_i‖ at init");
            }
            NDArray wArr = Dense.toArray(manager, w);
            NDArray x = manager.randomNormal(new Shape(3, IN));
            NDArray y0 = x.matMul(wArr.transpose());
            NDArray dy = adapter.forward(x, new FrozenLinear(wArr, null, y0), p -> p.getArray(), false);
            assertTrue(dy.abs().max().getFloat() < 1e-5, "B = 0 and m = ‖W‖: no change");
        }
    }

    @Test
    void forwardMergeAndNormMatchTheClosedForm() {
        for (boolean rslora : new boolean[] {false, true}) {
            double s = rslora ? 8 / Math.sqrt(R) : 8.0 / R;
            double[][] w = Dense.asFloat(Dense.random(rnd, OUT, IN));
            double[] bias = Dense.asFloat(Dense.random(rnd, 1, OUT))[0];
            double[][] a = Dense.asFloat(Dense.random(rnd, R, IN));
            double[][] b = Dense.asFloat(Dense.random(rnd, OUT, R));
            double[] m = Dense.asFloat(Dense.random(rnd, 1, OUT))[0];
            for (int i = 0; i < OUT; i++) {
                m[i] = Math.abs(m[i]) + 0.5;
            }
            NDArray wArr = Dense.toArray(manager, w);
            try (LinearAdapter adapter = config(rslora).create("q", wArr, manager)) {
                Dense.assign(adapter.parameters().get(LoraAdapter.A).getArray(), a);
                Dense.assign(adapter.parameters().get(LoraAdapter.B).getArray(), b);
                Dense.assign(adapter.parameters().get(DoraAdapter.MAGNITUDE).getArray(), new double[][] {m});
                double[][] expected = merged(w, a, b, s, m);

                double[][] x = Dense.random(rnd, 5, IN);
                NDArray xArr = Dense.toArray(manager, x);
                NDArray bArr = manager.create(toFloats(bias), new Shape(OUT));
                NDArray y0 = xArr.matMul(wArr.transpose()).add(bArr);
                NDArray y = y0.add(adapter.forward(xArr, new FrozenLinear(wArr, bArr, y0), p -> p.getArray(), false));
                double[][] want = Dense.matmul(x, Dense.transpose(expected));
                for (double[] row : want) {
                    for (int j = 0; j < OUT; j++) {
                        row[j] += bias[j];
                    }
                }
                assertTrue(Dense.maxAbsDiff(want, y) < 1e-4, "forward, rslora=" + rslora);

                try (WeightUpdate u = adapter.weightUpdate(wArr)) {
                    NDArray merged = u.apply(wArr);
                    assertTrue(Dense.maxAbsDiff(expected, merged) < 1e-5, "merge");
                    assertTrue(Dense.maxAbsDiff(w, u.revert(merged)) < 1e-5, "unmerge");
                }
                double dist = 0;
                for (int i = 0; i < OUT; i++) {
                    for (int j = 0; j < IN; j++) {
                        dist += (expected[i][j] - w[i][j]) * (expected[i][j] - w[i][j]);
                    }
                }
                assertEquals(Math.sqrt(dist), adapter.updateNorm(wArr), 1e-4 * Math.sqrt(dist));
                assertEquals(new Shape(OUT, IN), adapter.updateShape());
                assertFalse(adapter.hasLoraForm());
                assertThrows(UnsupportedOperationException.class, adapter::toLora);
                assertThrows(UnsupportedOperationException.class, adapter::deltaWeight);
            }
        }
    }

    private static float[] toFloats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = (float) v[i];
        }
        return f;
    }

    @Test
    void useDoraChoosesTheMethodAndRoundTrips() {
        Map<String, Object> fields = new java.util.LinkedHashMap<>(new DoraMethod().toFields(config(true)));
        assertEquals(true, fields.get("use_dora"));
        assertEquals(
                "dora",
                AdapterMethods.byPeftType("LORA", new ConfigFields(fields, "f")).name());
        fields.put("use_dora", false);
        assertEquals(
                "lora",
                AdapterMethods.byPeftType("LORA", new ConfigFields(fields, "f")).name());
        fields.remove("use_dora");
        assertEquals(
                "lora",
                AdapterMethods.byPeftType("LORA", new ConfigFields(fields, "f")).name());
        assertEquals(
                config(true),
                AdapterMethods.byName("DoRA")
                        .fromFields(
                                new ConfigFields(new DoraMethod().toFields(config(true)), "f"),
                                config(true).targets()));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> new DoraMethod()
                        .fromFields(
                                new ConfigFields(Map.of("use_dora", false), "f"),
                                config(true).targets()));
        assertTrue(e.getMessage().contains("use_dora"), e.getMessage());
    }
}
