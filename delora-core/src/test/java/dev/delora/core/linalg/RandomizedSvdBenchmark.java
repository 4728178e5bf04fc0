package dev.delora.core.linalg;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;
import java.util.Locale;

/**
 * Prints time and accuracy of {@link RandomizedSvd} on 768×768 float32 matrices with known spectra (not a test:
 * timings depend on the machine). Run with the test classpath: {@code java -cp ... RandomizedSvdBenchmark}.
 */
public final class RandomizedSvdBenchmark {

    private RandomizedSvdBenchmark() {}

    /**
     * Entry point.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        int d = 768;
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            System.out.printf(Locale.ROOT, "device %s, float32 input, float64 compute%n", manager.getDevice());
            bench(manager, "slow decay 1/sqrt(i)", TestMatrices.slowDecay(d), d);
            double[] power = new double[d];
            for (int i = 0; i < d; i++) {
                power[i] = 10 * Math.pow(i + 1, -1.0);
            }
            bench(manager, "decay 10/i", power, d);
        }
    }

    private static void bench(NDManager manager, String name, double[] sigma, int d) {
        NDArray w = manager.create(TestMatrices.withSpectrum(d, d, sigma, 1), new Shape(d, d))
                .toType(DataType.FLOAT32, false);
        for (int q : new int[] {2, 10}) {
            for (int r : new int[] {8, 16, 25}) {
                RandomizedSvd.Options opts = new RandomizedSvd.Options(r, 10, q, 42, true);
                for (int i = 0; i < 3; i++) {
                    RandomizedSvd.decompose(w, opts).close(); // warm-up (JIT, allocator)
                }
                long[] times = new long[5];
                RandomizedSvd.Result res = null;
                for (int i = 0; i < times.length; i++) {
                    if (res != null) {
                        res.close();
                    }
                    long t0 = System.nanoTime();
                    res = RandomizedSvd.decompose(w, opts);
                    times[i] = System.nanoTime() - t0;
                }
                Arrays.sort(times);
                double[] s = res.s().toType(DataType.FLOAT64, false).toDoubleArray();
                double maxRel = 0;
                for (int i = 0; i < r; i++) {
                    maxRel = Math.max(maxRel, Math.abs(s[i] - sigma[i]) / sigma[i]);
                }
                NDArray u = res.u().toType(DataType.FLOAT64, false);
                double orth = u.transpose()
                        .matMul(u)
                        .sub(manager.eye(r, r, 0, DataType.FLOAT64))
                        .abs()
                        .max()
                        .getDouble();
                NDArray approx = u.mul(res.s().toType(DataType.FLOAT64, false).reshape(1, -1))
                        .matMul(res.vt().toType(DataType.FLOAT64, false));
                double err =
                        w.toType(DataType.FLOAT64, false).sub(approx).norm().getDouble();
                double opt = TestMatrices.optimalError(sigma, r);
                System.out.printf(
                        Locale.ROOT,
                        "%-22s r=%2d p=10 q=%2d  median %6.1f ms  max rel sigma err %.2e  ||W-USVt||/opt %.6f"
                                + "  max|UtU-I| %.1e%n",
                        name,
                        r,
                        q,
                        times[times.length / 2] / 1e6,
                        maxRel,
                        err / opt,
                        orth);
                res.close();
            }
        }
    }
}
