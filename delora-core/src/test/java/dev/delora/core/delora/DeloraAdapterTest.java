package dev.delora.core.delora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import dev.delora.core.Dense;
import dev.delora.core.LinearAdapter;
import dev.delora.core.target.TargetSpec;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** DeLoRA's ΔW, forward, bound and init against the paper's formula evaluated independently in doubles. */
class DeloraAdapterTest {

    private static final int IN = 12;
    private static final int OUT = 10;
    private static final int R = 4;

    private NDManager manager;
    private final Random rnd = new Random(7);

    @BeforeEach
    void setUp() {
        Engine.getInstance().setRandomSeed(3);
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private DeloraConfig config(DeloraInit init, float lambda) {
        return DeloraConfig.builder()
                .r(R)
                .deloraLambda(lambda)
                .init(init)
                .targetModules("q")
                .build();
    }

    /** The paper's ΔW_oj = (λ w_j / r) Σᵢ (B_oi A_ij/(‖b_i‖‖a_i‖) − D_oi C_ij/(‖d_i‖‖c_i‖)), D = C = null allowed. */
    static double[][] paperDelta(double[][] a, double[][] b, double[][] c, double[][] d, double lambda, double[][] w) {
        double[][] delta = new double[OUT][IN];
        for (int o = 0; o < OUT; o++) {
            for (int j = 0; j < IN; j++) {
                double wj = Dense.colNorm(w, j);
                double sum = 0;
                for (int i = 0; i < R; i++) {
                    sum += b[o][i] * a[i][j] / (Dense.colNorm(b, i) * Dense.rowNorm(a, i));
                    if (c != null) {
                        sum -= d[o][i] * c[i][j] / (Dense.colNorm(d, i) * Dense.rowNorm(c, i));
                    }
                }
                delta[o][j] = lambda * wj / R * sum;
            }
        }
        return delta;
    }

    private static NDArray array(LinearAdapter adapter, String key) {
        return adapter.parameters().get(key).getArray();
    }

    @Test
    void zeroBDeltaMatchesFormulaAfterArbitraryChanges() {
        double[][] w = Dense.asFloat(Dense.random(rnd, OUT, IN));
        try (LinearAdapter adapter = config(DeloraInit.ZERO_B, 3f).create("q", Dense.toArray(manager, w), manager)) {
            double[][] a = Dense.asFloat(Dense.random(rnd, R, IN));
            double[][] b = Dense.asFloat(Dense.random(rnd, OUT, R));
            Dense.assign(array(adapter, DeloraAdapter.A), a);
            Dense.assign(array(adapter, DeloraAdapter.B), b);
            array(adapter, DeloraAdapter.LAMBDA).set(new NDIndex(0), -2.5f);
            double[][] expected = paperDelta(a, b, null, null, -2.5, w);
            assertTrue(Dense.maxAbsDiff(expected, adapter.deltaWeight()) < 1e-5);
        }
    }

    @Test
    void paperModeSubtractsFrozenCopiesOfTheInitialFactors() {
        double[][] w = Dense.asFloat(Dense.random(rnd, OUT, IN));
        try (LinearAdapter adapter = config(DeloraInit.PAPER, 4f).create("q", Dense.toArray(manager, w), manager)) {
            double[][] c = Dense.of(array(adapter, DeloraAdapter.A));
            double[][] d = Dense.of(array(adapter, DeloraAdapter.B));
            assertTrue(adapter.deltaWeight().abs().max().getFloat() < 1e-6, "ΔW must be 0 at init");

            double[][] a = Dense.asFloat(Dense.random(rnd, R, IN));
            double[][] b = Dense.asFloat(Dense.random(rnd, OUT, R));
            Dense.assign(array(adapter, DeloraAdapter.A), a);
            Dense.assign(array(adapter, DeloraAdapter.B), b);
            double[][] expected = paperDelta(a, b, c, d, 4, w);
            assertTrue(Dense.maxAbsDiff(expected, adapter.deltaWeight()) < 1e-5);
            // the frozen copies are deep copies: changing A and B left them alone
            assertTrue(Dense.maxAbsDiff(c, adapter.buffers().get(DeloraAdapter.C)) == 0);
            assertTrue(Dense.maxAbsDiff(d, adapter.buffers().get(DeloraAdapter.D)) == 0);
        }
    }

    @Test
    void zeroDeltaAtInitInBothModesAndNotInRandomMode() {
        double[][] w = Dense.random(rnd, OUT, IN);
        for (DeloraInit init : DeloraInit.values()) {
            try (LinearAdapter adapter = config(init, 15f).create("q", Dense.toArray(manager, w), manager)) {
                float max = adapter.deltaWeight().abs().max().getFloat();
                if (init == DeloraInit.RANDOM) {
                    assertTrue(max > 1e-3, "RANDOM init must start with ΔW ≠ 0");
                } else {
                    assertEquals(0f, max, 1e-6f, init + " must start with ΔW = 0");
                }
            }
        }
    }

    @Test
    void forwardEqualsDenseDeltaTimesInput() {
        double[][] w = Dense.asFloat(Dense.random(rnd, OUT, IN));
        try (LinearAdapter adapter = config(DeloraInit.PAPER, 4f).create("q", Dense.toArray(manager, w), manager)) {
            double[][] c = Dense.of(array(adapter, DeloraAdapter.A));
            double[][] d = Dense.of(array(adapter, DeloraAdapter.B));
            double[][] a = Dense.asFloat(Dense.random(rnd, R, IN));
            double[][] b = Dense.asFloat(Dense.random(rnd, OUT, R));
            Dense.assign(array(adapter, DeloraAdapter.A), a);
            Dense.assign(array(adapter, DeloraAdapter.B), b);
            double[][] x = Dense.asFloat(Dense.random(rnd, 6, IN));
            double[][] expected = Dense.matmul(x, Dense.transpose(paperDelta(a, b, c, d, 4, w)));
            NDArray x3 = Dense.toArray(manager, x).reshape(new Shape(2, 3, IN));
            NDArray y = adapter.forward(x3, Parameter::getArray, false);
            assertEquals(new Shape(2, 3, OUT), y.getShape());
            assertTrue(Dense.maxAbsDiff(expected, y.reshape(6, OUT)) < 1e-5);
        }
    }

    @Test
    void normalisedUpdateIsBoundedByLambda() {
        for (int trial = 0; trial < 20; trial++) {
            double[][] w = Dense.asFloat(Dense.random(rnd, OUT, IN));
            float lambda = (float) (rnd.nextDouble() * 20 - 10);
            try (LinearAdapter adapter =
                    config(DeloraInit.ZERO_B, lambda).create("q", Dense.toArray(manager, w), manager)) {
                Dense.assign(array(adapter, DeloraAdapter.A), Dense.random(rnd, R, IN));
                double[][] b = Dense.random(rnd, OUT, R);
                if (trial % 2 == 0) { // near rank-one: all components aligned, where the bound is tight
                    for (double[] row : b) {
                        java.util.Arrays.fill(row, row[0]);
                    }
                }
                Dense.assign(array(adapter, DeloraAdapter.B), b);
                double[][] delta = Dense.of(adapter.deltaWeight());
                for (int j = 0; j < IN; j++) {
                    double wj = Dense.colNorm(w, j);
                    for (int o = 0; o < OUT; o++) {
                        delta[o][j] /= wj;
                    }
                }
                assertTrue(
                        Dense.frobenius(delta) <= Math.abs(lambda) * (1 + 1e-5),
                        "‖ΔW·diag(1/‖W_col‖)‖_F = " + Dense.frobenius(delta) + " exceeds |λ| = " + Math.abs(lambda));
            }
        }
    }

    @Test
    void gradientsAreFiniteWhenBIsZero() {
        double[][] w = Dense.random(rnd, OUT, IN);
        try (LinearAdapter adapter = config(DeloraInit.ZERO_B, 3f).create("q", Dense.toArray(manager, w), manager);
                GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray x = Dense.toArray(manager, Dense.random(rnd, 5, IN));
            gc.backward(adapter.forward(x, Parameter::getArray, true).sum());
            for (Parameter p : adapter.parameters().values()) {
                NDArray g = p.getArray().getGradient();
                assertFalse(g.isNaN().any().getBoolean() || g.isInfinite().any().getBoolean(), p.getName());
            }
            assertTrue(
                    array(adapter, DeloraAdapter.B).getGradient().abs().max().getFloat() > 0,
                    "B must receive a gradient at B = 0");
        }
    }

    @Test
    void rejectsInvalidConfigs() {
        TargetSpec t = TargetSpec.of("q");
        assertThrows(
                IllegalArgumentException.class, () -> new DeloraConfig(0, 1f, 0f, DeloraInit.PAPER, t, null, null));
        assertThrows(
                IllegalArgumentException.class, () -> new DeloraConfig(4, 1f, 1f, DeloraInit.PAPER, t, null, null));
        assertThrows(
                IllegalArgumentException.class,
                () -> new DeloraConfig(4, Float.NaN, 0f, DeloraInit.PAPER, t, null, null));
        assertThrows(NullPointerException.class, () -> DeloraConfig.builder().build()); // no target modules
    }

    @Test
    void lambdaAndRankPatternsResolvePerModule() {
        DeloraConfig c = DeloraConfig.builder()
                .r(8)
                .deloraLambda(12)
                .targetModules("query", "value")
                .rankPattern("layer.1.attention.self.value", 2)
                .lambdaPattern("query", 4f)
                .build();
        assertEquals(2, c.rankFor("encoder.layer.1.attention.self.value"));
        assertEquals(8, c.rankFor("encoder.layer.0.attention.self.value"));
        assertEquals(4f, c.lambdaFor("encoder.layer.0.attention.self.query"));
        assertEquals(12f, c.lambdaFor("encoder.layer.0.attention.self.value"));
    }
}
