package dev.delora.core.array;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

/** The shared helpers every adapter and the merge/load checks rely on. */
class ArrayOpsTest {

    @Test
    void allFiniteRejectsNanAndBothInfinitiesButNotLargeFiniteValues() {
        try (NDManager m = NDManager.newBaseManager()) {
            assertTrue(ArrayOps.allFinite(m.create(new float[] {0f, -2.5f, 1e-30f})));
            // a sum of these overflows to +Inf; every element is finite
            assertTrue(ArrayOps.allFinite(m.create(new float[] {3e38f, 3e38f, -3e38f})));
            assertFalse(ArrayOps.allFinite(m.create(new float[] {1f, Float.NaN, 2f})));
            assertFalse(ArrayOps.allFinite(m.create(new float[] {1f, Float.POSITIVE_INFINITY})));
            assertFalse(ArrayOps.allFinite(m.create(new float[] {Float.NEGATIVE_INFINITY, 1f})));
        }
    }

    @Test
    void dropoutIsTheIdentityOutsideTrainingAndAtRateZero() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.ones(new ai.djl.ndarray.types.Shape(4, 8));
            assertSame(x, ArrayOps.dropout(x, 0.5f, false));
            assertSame(x, ArrayOps.dropout(x, 0f, true));
            NDArray y = ArrayOps.dropout(x, 0.5f, true);
            // inverted dropout: every kept element is scaled to 1/(1-p) = 2, the others are 0
            float[] v = y.toFloatArray();
            for (float f : v) {
                assertTrue(f == 0f || f == 2f, "unexpected value " + f);
            }
        }
    }

    @Test
    void scaledMultipliesKeepsTypeAndShapeAndDifferentiates() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(new float[] {1f, -2f, 0.5f}, new Shape(3, 1));
            x.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray y = ArrayOps.scaled(x, 0.25f);
                assertEquals(new Shape(3, 1), y.getShape());
                assertArrayEquals(new float[] {0.25f, -0.5f, 0.125f}, y.toFloatArray());
                System.gc(); // a Java-backed scalar freed here would corrupt the gradient below
                gc.backward(y.sum());
            }
            assertArrayEquals(new float[] {0.25f, 0.25f, 0.25f}, x.getGradient().toFloatArray());
            // a 0-d scalar of the input's type: float16 stays float16 instead of being promoted to float32
            NDArray half = m.create(new float[] {2f, 4f}).toType(DataType.FLOAT16, false);
            NDArray h = ArrayOps.scaled(half, 1.5f);
            assertEquals(DataType.FLOAT16, h.getDataType());
            assertArrayEquals(
                    new float[] {3f, 6f}, h.toType(DataType.FLOAT32, false).toFloatArray());
        }
    }
}
