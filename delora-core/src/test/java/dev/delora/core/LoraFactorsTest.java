package dev.delora.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.delora.core.array.ArrayOps;
import org.junit.jupiter.api.Test;

/** The dense product and the cheap finiteness bound the merge relies on. */
class LoraFactorsTest {

    @Test
    void denseIsScalingTimesBA() {
        try (NDManager m = NDManager.newBaseManager()) {
            // A = [[1, 2, 3]], B = [[1], [-2]]: B·A = [[1, 2, 3], [-2, -4, -6]]
            LoraFactors f = new LoraFactors(
                    m.create(new float[] {1, 2, 3}, new Shape(1, 3)),
                    m.create(new float[] {1, -2}, new Shape(2, 1)),
                    0.5f);
            assertArrayEquals(new float[] {0.5f, 1, 1.5f, -1, -2, -3}, f.dense().toFloatArray());
        }
    }

    @Test
    void theBoundVouchesOnlyForProductsThatCannotOverflow() {
        try (NDManager m = NDManager.newBaseManager()) {
            assertTrue(factors(m, 3f, 2f).denseCertainlyFinite());
            // 4 · 1e20 · 1e20 overflows float32: the bound must not vouch, and the product really is infinite
            LoraFactors huge = factors(m, 1e20f, 1e20f);
            assertFalse(huge.denseCertainlyFinite());
            assertFalse(ArrayOps.allFinite(huge.dense()));
            assertFalse(factors(m, Float.NaN, 1f).denseCertainlyFinite());
            assertFalse(factors(m, 1f, Float.POSITIVE_INFINITY).denseCertainlyFinite());
        }
    }

    /** Rank 2, scaling 2: A filled with {@code a}, B with {@code b} (one entry of each). */
    private static LoraFactors factors(NDManager m, float a, float b) {
        NDArray av = m.create(new float[] {a, 0.1f, 0.2f, 0.3f}, new Shape(2, 2));
        NDArray bv = m.create(new float[] {b, 0.5f, 0.25f, 1f}, new Shape(2, 2));
        return new LoraFactors(av, bv, 2f);
    }
}
