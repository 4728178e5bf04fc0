package dev.delora.core.linalg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class RandomizedSvdTest {

    private static NDManager manager;

    @BeforeAll
    static void open() {
        manager = NDManager.newBaseManager("PyTorch");
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    private static NDArray matrix(int m, int n, double[] sigma, long seed) {
        return manager.create(TestMatrices.withSpectrum(m, n, sigma, seed), new Shape(m, n));
    }

    @Test
    void wellSeparatedSpectrumToOneMillionth() {
        double[] sigma = TestMatrices.steppedWithTail(40);
        NDArray w = matrix(60, 40, sigma, 11);
        for (int r : new int[] {1, 5, 10}) {
            try (RandomizedSvd.Result res = RandomizedSvd.decompose(w, new RandomizedSvd.Options(r, 5, 4, 7, true))) {
                assertEquals(new Shape(60, r), res.u().getShape());
                assertEquals(new Shape(r), res.s().getShape());
                assertEquals(new Shape(r, 40), res.vt().getShape());
                double[] s = res.s().toDoubleArray();
                for (int i = 0; i < r; i++) {
                    assertEquals(sigma[i], s[i], 1e-6 * sigma[i], "sigma_" + i + " at rank " + r);
                }
                assertOrthonormal(res.u().transpose().matMul(res.u()), r, 1e-10);
                assertOrthonormal(res.vt().matMul(res.vt().transpose()), r, 1e-10);
                double err = reconstructionError(w, res);
                assertEquals(TestMatrices.optimalError(sigma, r), err, 1e-6 * sigma[0]);
            }
        }
    }

    @Test
    void exactlyLowRankMatrixIsRecoveredWithRankDeficientSketch() {
        // Rank 8 with a 12-column sketch: four sketch directions are pure round-off and must be dropped.
        double[] sigma = {5, 4, 3.5, 3, 2, 1, 0.5, 0.25};
        NDArray w = matrix(50, 70, sigma, 5);
        try (RandomizedSvd.Result res = RandomizedSvd.decompose(w, new RandomizedSvd.Options(8, 4, 2, 1, true))) {
            assertArrayEquals(sigma, res.s().toDoubleArray(), 1e-10);
            assertOrthonormal(res.u().transpose().matMul(res.u()), 8, 1e-10);
            assertTrue(reconstructionError(w, res) < 1e-10);
        }
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> RandomizedSvd.decompose(w, new RandomizedSvd.Options(10, 4, 2, 1, true)));
        assertTrue(e.getMessage().contains("numerical rank"), e.getMessage());
    }

    @Test
    void slowlyDecayingSpectrumIsNearOptimal() {
        double[] sigma = TestMatrices.slowDecay(80);
        NDArray w = matrix(100, 80, sigma, 21);
        int r = 10;
        try (RandomizedSvd.Result res = RandomizedSvd.decompose(w, new RandomizedSvd.Options(r, 10, 4, 3, true))) {
            double opt = TestMatrices.optimalError(sigma, r);
            double err = reconstructionError(w, res);
            assertTrue(err >= opt * (1 - 1e-12), "cannot beat Eckart–Young: " + err + " < " + opt);
            assertTrue(err <= 1.01 * opt, "error " + err + " vs optimal " + opt);
            double[] s = res.s().toDoubleArray();
            for (int i = 0; i < r; i++) {
                assertEquals(sigma[i], s[i], 2e-2 * sigma[i], "sigma_" + i);
            }
            assertOrthonormal(res.u().transpose().matMul(res.u()), r, 1e-10);
        }
    }

    @Test
    void deterministicForASeedAndCanonicalSigns() {
        double[] sigma = TestMatrices.slowDecay(30);
        NDArray w = matrix(40, 30, sigma, 8).toType(DataType.FLOAT32, false);
        RandomizedSvd.Options opts = new RandomizedSvd.Options(6, 4, 1, 99, true);
        try (RandomizedSvd.Result a = RandomizedSvd.decompose(w, opts);
                RandomizedSvd.Result b = RandomizedSvd.decompose(w, opts);
                RandomizedSvd.Result c = RandomizedSvd.decompose(w, opts.withSeed(100))) {
            assertEquals(DataType.FLOAT32, a.u().getDataType());
            assertArrayEquals(a.u().toFloatArray(), b.u().toFloatArray());
            assertArrayEquals(a.s().toFloatArray(), b.s().toFloatArray());
            assertArrayEquals(a.vt().toFloatArray(), b.vt().toFloatArray());
            // Another seed gives another sketch, hence (slightly) different numbers.
            assertNotEquals(a.s().getFloat(5), c.s().getFloat(5));
            float[] u = a.u().toFloatArray();
            for (int j = 0; j < 6; j++) {
                float best = 0;
                for (int i = 0; i < 40; i++) {
                    if (Math.abs(u[i * 6 + j]) > Math.abs(best)) {
                        best = u[i * 6 + j];
                    }
                }
                assertTrue(best > 0, "column " + j + " has its largest entry negative");
            }
        }
    }

    @Test
    void rejectsBadInput() {
        NDArray v = manager.create(new float[] {1, 2, 3});
        assertThrows(IllegalArgumentException.class, () -> RandomizedSvd.decompose(v, RandomizedSvd.Options.of(1)));
        NDArray w = manager.ones(new Shape(4, 3));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> RandomizedSvd.decompose(w, RandomizedSvd.Options.of(4)));
        assertTrue(e.getMessage().contains("4×3"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new RandomizedSvd.Options(0, 1, 1, 1, true));
        assertThrows(
                IllegalArgumentException.class,
                () -> RandomizedSvd.decompose(manager.zeros(new Shape(5, 5)), RandomizedSvd.Options.of(2)));
    }

    private static double reconstructionError(NDArray w, RandomizedSvd.Result res) {
        NDArray approx = res.u().mul(res.s().reshape(1, -1)).matMul(res.vt());
        return w.toType(DataType.FLOAT64, false)
                .sub(approx.toType(DataType.FLOAT64, false))
                .norm()
                .getDouble();
    }

    private static void assertOrthonormal(NDArray gram, int r, double tol) {
        double[] g = gram.toType(DataType.FLOAT64, false).toDoubleArray();
        for (int i = 0; i < r; i++) {
            for (int j = 0; j < r; j++) {
                assertEquals(i == j ? 1 : 0, g[i * r + j], tol, "Gram(" + i + "," + j + ")");
            }
        }
    }
}
