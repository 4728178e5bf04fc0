package dev.delora.core.sora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.delora.core.Dense;
import dev.delora.core.LoraFactors;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** SoRA's gated ΔW = (α/r)·B·diag(g)·A and its pruning to an exact smaller LoRA. */
class SoraAdapterTest {

    private static final int IN = 12;
    private static final int OUT = 10;
    private static final int R = 6;

    private NDManager manager;
    private final Random rnd = new Random(3);

    @BeforeEach
    void setUp() {
        Engine.getInstance().setRandomSeed(9);
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private SoraAdapter randomAdapter(double[][] a, double[][] b, double[][] g) {
        SoraConfig config =
                SoraConfig.builder().r(R).loraAlpha(12).targetModules("q").build();
        SoraAdapter adapter = (SoraAdapter) config.create("q", manager.zeros(new Shape(OUT, IN)), manager);
        Dense.assign(adapter.parameters().get(SoraAdapter.A).getArray(), a);
        Dense.assign(adapter.parameters().get(SoraAdapter.B).getArray(), b);
        Dense.assign(adapter.gate().getArray(), g);
        return adapter;
    }

    private static double[][] gatedDelta(double[][] a, double[][] b, double[][] g, double scaling) {
        double[][] d = new double[OUT][IN];
        for (int o = 0; o < OUT; o++) {
            for (int j = 0; j < IN; j++) {
                for (int i = 0; i < R; i++) {
                    d[o][j] += scaling * b[o][i] * g[0][i] * a[i][j];
                }
            }
        }
        return d;
    }

    @Test
    void deltaAndForwardMatchGatedFormula() {
        double[][] a = Dense.asFloat(Dense.random(rnd, R, IN));
        double[][] b = Dense.asFloat(Dense.random(rnd, OUT, R));
        double[][] g = Dense.asFloat(Dense.random(rnd, 1, R));
        try (SoraAdapter adapter = randomAdapter(a, b, g)) {
            double[][] expected = gatedDelta(a, b, g, 12.0 / R);
            assertTrue(Dense.maxAbsDiff(expected, adapter.deltaWeight()) < 1e-5);
            double[][] x = Dense.asFloat(Dense.random(rnd, 7, IN));
            NDArray y = adapter.forward(Dense.toArray(manager, x), Parameter::getArray, false);
            assertTrue(Dense.maxAbsDiff(Dense.matmul(x, Dense.transpose(expected)), y) < 1e-5);
        }
    }

    @Test
    void pruningKeepsLiveGatesAndIsExact() {
        double[][] a = Dense.asFloat(Dense.random(rnd, R, IN));
        double[][] b = Dense.asFloat(Dense.random(rnd, OUT, R));
        double[][] g = {{0.7, 0, -1.3, 0, 0, 0.2}};
        try (SoraAdapter adapter = randomAdapter(a, b, g)) {
            assertEquals(3, adapter.liveRank());
            try (LoraFactors f = adapter.toLora()) {
                assertEquals(3, f.rank());
                assertEquals(new Shape(3, IN), f.a().getShape());
                double[][] expected = gatedDelta(a, b, Dense.asFloat(g), 12.0 / R);
                assertTrue(Dense.maxAbsDiff(expected, f.dense()) < 1e-6);
            }
        }
        double[][] dead = {{0, 0, 0, 0, 0, 0}};
        try (SoraAdapter adapter = randomAdapter(a, b, dead);
                LoraFactors f = adapter.toLora()) {
            assertEquals(0f, f.dense().abs().max().getFloat());
        }
    }

    @Test
    void initialisationFollowsTheReference() {
        SoraConfig config = SoraConfig.builder().r(64).targetModules("q").build();
        try (SoraAdapter adapter = (SoraAdapter) config.create("q", manager.zeros(new Shape(OUT, 300)), manager)) {
            assertEquals(new Shape(1, 64), adapter.gate().getArray().getShape());
            assertEquals(
                    0f,
                    adapter.parameters()
                            .get(SoraAdapter.B)
                            .getArray()
                            .abs()
                            .max()
                            .getFloat());
            float bound = (float) (1 / Math.sqrt(300));
            assertTrue(adapter.parameters()
                            .get(SoraAdapter.A)
                            .getArray()
                            .abs()
                            .max()
                            .getFloat()
                    <= bound);
            assertEquals(16f / 64, adapter.scaling());
        }
    }

    @Test
    void rejectsInvalidSchedules() {
        assertThrows(
                IllegalArgumentException.class,
                () -> SoraConfig.builder()
                        .targetModules("q")
                        .lambdaSchedule(SoraSchedule.LINEAR, 1e-3f, 1)
                        .build());
        assertThrows(
                IllegalArgumentException.class,
                () -> SoraConfig.builder()
                        .targetModules("q")
                        .sparseLambda2(0)
                        .lambdaSchedule(SoraSchedule.EXP_LINEAR, 1e-3f, 4)
                        .build());
        assertThrows(
                IllegalArgumentException.class,
                () -> SoraConfig.builder()
                        .targetModules("q")
                        .sparseLambda2(1)
                        .lambdaSchedule(SoraSchedule.LINEAR, 0.5f, 4)
                        .build());
    }
}
