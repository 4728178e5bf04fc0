package dev.delora.core.loraxs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import dev.delora.core.Dense;
import dev.delora.core.LinearAdapter;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** LoRA-XS: ΔW = (α/r)·U_r R Σ_r V_rᵀ, checked on matrices whose truncated SVD is known in closed form. */
class LoraXsAdapterTest {

    private static final int OUT = 20;
    private static final int IN = 16;
    private static final int R = 3;

    private NDManager manager;
    private final Random rnd = new Random(5);

    @BeforeEach
    void setUp() {
        Engine.getInstance().setRandomSeed(2);
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private LinearAdapter create(double[][] w, float alpha) {
        LoraXsConfig config =
                LoraXsConfig.builder().r(R).loraAlpha(alpha).targetModules("q").build();
        return config.create("q", Dense.toArray(manager, w), manager);
    }

    @Test
    void withIdentityRTheUpdateIsTheScaledBestRankRApproximation() {
        // W of exact rank r: its best rank-r approximation U_r Σ_r V_rᵀ is W itself
        double[][] w = Dense.asFloat(Dense.matmul(Dense.random(rnd, OUT, R), Dense.random(rnd, R, IN)));
        try (LinearAdapter adapter = create(w, 6)) {
            NDArray r = adapter.parameters().get(LoraXsAdapter.R).getArray();
            r.set(new NDIndex(":"), manager.eye(R));
            double scaling = 6.0 / R;
            double[][] expected = new double[OUT][IN];
            for (int o = 0; o < OUT; o++) {
                for (int j = 0; j < IN; j++) {
                    expected[o][j] = scaling * w[o][j];
                }
            }
            assertTrue(Dense.maxAbsDiff(expected, adapter.deltaWeight()) < 1e-4);
            double[][] x = Dense.asFloat(Dense.random(rnd, 4, IN));
            NDArray y = adapter.forward(Dense.toArray(manager, x), Parameter::getArray, false);
            assertTrue(Dense.maxAbsDiff(Dense.matmul(x, Dense.transpose(expected)), y) < 1e-4);
        }
    }

    @Test
    void generalRGivesBRA() {
        double[][] w = Dense.asFloat(Dense.random(rnd, OUT, IN));
        try (LinearAdapter adapter = create(w, 16)) {
            double[][] rr = Dense.asFloat(Dense.random(rnd, R, R));
            Dense.assign(adapter.parameters().get(LoraXsAdapter.R).getArray(), rr);
            double[][] b = Dense.of(adapter.buffers().get(LoraXsAdapter.B));
            double[][] a = Dense.of(adapter.buffers().get(LoraXsAdapter.A));
            double[][] expected = Dense.matmul(Dense.matmul(b, rr), a);
            for (double[] row : expected) {
                for (int j = 0; j < IN; j++) {
                    row[j] *= 16.0 / R;
                }
            }
            assertTrue(Dense.maxAbsDiff(expected, adapter.deltaWeight()) < 1e-5);
            // B = U_r has orthonormal columns, and the rows of A carry the singular values in descending order
            double[][] btb = Dense.matmul(Dense.transpose(b), b);
            for (int i = 0; i < R; i++) {
                for (int j = 0; j < R; j++) {
                    assertEquals(i == j ? 1 : 0, btb[i][j], 1e-5);
                }
            }
            assertTrue(Dense.rowNorm(a, 0) >= Dense.rowNorm(a, 1) && Dense.rowNorm(a, 1) >= Dense.rowNorm(a, 2));
        }
    }

    @Test
    void startsNearZeroAndOnlyRTrains() {
        double[][] w = Dense.random(rnd, OUT, IN);
        try (LinearAdapter adapter = create(w, 16)) {
            assertTrue(adapter.deltaWeight().norm().getFloat() <= 1e-3 * Dense.frobenius(w));
            assertEquals(1, adapter.parameters().size());
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray x = Dense.toArray(manager, Dense.random(rnd, 5, IN));
                gc.backward(adapter.forward(x, Parameter::getArray, true).sum());
            }
            assertTrue(adapter.parameters()
                            .get(LoraXsAdapter.R)
                            .getArray()
                            .getGradient()
                            .abs()
                            .max()
                            .getFloat()
                    > 0);
            for (NDArray frozen : adapter.buffers().values()) {
                assertFalse(frozen.hasGradient(), "the SVD factors are frozen");
            }
        }
    }
}
