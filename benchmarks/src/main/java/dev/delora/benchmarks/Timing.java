package dev.delora.benchmarks;

import java.util.Arrays;

/** Warm-up, then the median of timed repetitions: robust to the odd slow iteration on a shared machine. */
public final class Timing {

    private Timing() {}

    /** Something to time. */
    @FunctionalInterface
    public interface Body {
        /**
         * Runs once.
         *
         * @throws Exception anything
         */
        void run() throws Exception;
    }

    /**
     * Runs {@code warmup} untimed and {@code iterations} timed repetitions.
     *
     * @param warmup untimed repetitions first (JIT, allocator, libtorch's lazy init)
     * @param iterations timed repetitions, at least 1
     * @param body the work
     * @return the median in milliseconds
     * @throws Exception whatever the body throws
     */
    public static double medianMs(int warmup, int iterations, Body body) throws Exception {
        if (iterations < 1) {
            throw new IllegalArgumentException("iterations must be >= 1, got " + iterations);
        }
        for (int i = 0; i < warmup; i++) {
            body.run();
        }
        double[] ms = new double[iterations];
        for (int i = 0; i < iterations; i++) {
            long t0 = System.nanoTime();
            body.run();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        return median(ms);
    }

    /**
     * Returns the median (the mean of the two middle values for an even count).
     *
     * @param values the values (not modified)
     * @return the median
     */
    public static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
}
