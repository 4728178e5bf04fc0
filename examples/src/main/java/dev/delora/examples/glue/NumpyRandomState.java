package dev.delora.examples.glue;

/**
 * An exact port of the parts of numpy's legacy {@code numpy.random.RandomState} that the GLUE protocol needs:
 * seeding with an integer (MT19937 {@code init_genrand}), raw 32-bit draws, {@code random_interval} and
 * {@code permutation(n)}.
 *
 * <p>DeLoRA (like RED) splits each GLUE dev set with {@code np.random.RandomState(seed).permutation(n)}; to get
 * the same rows in Java, every bit of that computation has to be reproduced, including the rejection loop of
 * {@code random_interval}. Not thread-safe.
 */
public final class NumpyRandomState {

    private static final int N = 624;
    private static final int M = 397;
    private static final int MATRIX_A = 0x9908b0df;
    private static final int UPPER_MASK = 0x80000000;
    private static final int LOWER_MASK = 0x7fffffff;

    private final int[] mt = new int[N];
    private int pos;

    /**
     * Seeds the generator as {@code np.random.RandomState(seed)} does for an integer seed.
     *
     * @param seed the seed, 0 to 2<sup>32</sup>−1 (numpy rejects anything else)
     * @throws IllegalArgumentException if the seed is out of range
     */
    public NumpyRandomState(long seed) {
        if (seed < 0 || seed > 0xffffffffL) {
            throw new IllegalArgumentException("Seed must be between 0 and 2**32 - 1 (as numpy requires), got " + seed);
        }
        // init_genrand: key[0] = seed; key[i] = 1812433253 * (key[i-1] ^ (key[i-1] >>> 30)) + i, modulo 2^32.
        mt[0] = (int) seed;
        for (int i = 1; i < N; i++) {
            mt[i] = 1812433253 * (mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
        }
        pos = N;
    }

    /**
     * Returns the next raw MT19937 output ({@code next_uint32}).
     *
     * @return an unsigned 32-bit value in a {@code long}
     */
    public long nextUint32() {
        if (pos >= N) {
            generate();
        }
        int y = mt[pos++];
        y ^= y >>> 11;
        y ^= (y << 7) & 0x9d2c5680;
        y ^= (y << 15) & 0xefc60000;
        y ^= y >>> 18;
        return y & 0xffffffffL;
    }

    private void generate() {
        int kk;
        for (kk = 0; kk < N - M; kk++) {
            int y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
            mt[kk] = mt[kk + M] ^ (y >>> 1) ^ ((y & 1) != 0 ? MATRIX_A : 0);
        }
        for (; kk < N - 1; kk++) {
            int y = (mt[kk] & UPPER_MASK) | (mt[kk + 1] & LOWER_MASK);
            mt[kk] = mt[kk + (M - N)] ^ (y >>> 1) ^ ((y & 1) != 0 ? MATRIX_A : 0);
        }
        int y = (mt[N - 1] & UPPER_MASK) | (mt[0] & LOWER_MASK);
        mt[N - 1] = mt[M - 1] ^ (y >>> 1) ^ ((y & 1) != 0 ? MATRIX_A : 0);
        pos = 0;
    }

    /**
     * Draws a uniform integer in [0, max] exactly as numpy's {@code random_interval}: mask the raw draw with the
     * smallest 2<sup>k</sup>−1 ≥ max and reject values above max.
     *
     * @param max the inclusive upper bound, 0 to 2<sup>32</sup>−1
     * @return the draw
     */
    public long randomInterval(long max) {
        if (max < 0 || max > 0xffffffffL) {
            throw new IllegalArgumentException("max must be in [0, 2**32 - 1], got " + max);
        }
        if (max == 0) {
            return 0; // numpy returns without consuming a draw
        }
        long mask = max;
        mask |= mask >>> 1;
        mask |= mask >>> 2;
        mask |= mask >>> 4;
        mask |= mask >>> 8;
        mask |= mask >>> 16;
        long value;
        do {
            value = nextUint32() & mask;
        } while (value > max);
        return value;
    }

    /**
     * Returns {@code permutation(n)}: {@code arange(n)} shuffled by Fisher–Yates from the last element down,
     * swapping a[i] with a[random_interval(i)], as numpy's legacy {@code shuffle}.
     *
     * @param n the length, ≥ 0
     * @return a new permutation of 0..n−1
     */
    public int[] permutation(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("n must be >= 0, got " + n);
        }
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        for (int i = n - 1; i >= 1; i--) {
            int j = (int) randomInterval(i);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }
}
