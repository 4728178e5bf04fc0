package dev.delora.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import java.util.Random;

/** Plain double-precision matrix helpers: the independent side of every formula test. */
public final class Dense {

    private Dense() {}

    /** Random matrix with entries in [-1, 1). */
    public static double[][] random(Random rnd, int rows, int cols) {
        double[][] m = new double[rows][cols];
        for (double[] row : m) {
            for (int j = 0; j < cols; j++) {
                row[j] = rnd.nextDouble() * 2 - 1;
            }
        }
        return m;
    }

    /** Matrix product. */
    public static double[][] matmul(double[][] a, double[][] b) {
        double[][] c = new double[a.length][b[0].length];
        for (int i = 0; i < a.length; i++) {
            for (int k = 0; k < b.length; k++) {
                for (int j = 0; j < b[0].length; j++) {
                    c[i][j] += a[i][k] * b[k][j];
                }
            }
        }
        return c;
    }

    /** Transpose. */
    public static double[][] transpose(double[][] a) {
        double[][] t = new double[a[0].length][a.length];
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[0].length; j++) {
                t[j][i] = a[i][j];
            }
        }
        return t;
    }

    /** L2 norm of row i. */
    public static double rowNorm(double[][] a, int i) {
        double s = 0;
        for (double v : a[i]) {
            s += v * v;
        }
        return Math.sqrt(s);
    }

    /** L2 norm of column j. */
    public static double colNorm(double[][] a, int j) {
        double s = 0;
        for (double[] row : a) {
            s += row[j] * row[j];
        }
        return Math.sqrt(s);
    }

    /** Frobenius norm. */
    public static double frobenius(double[][] a) {
        double s = 0;
        for (double[] row : a) {
            for (double v : row) {
                s += v * v;
            }
        }
        return Math.sqrt(s);
    }

    /** Largest absolute entry-wise difference between a matrix and an NDArray of the same shape. */
    public static double maxAbsDiff(double[][] expected, NDArray actual) {
        float[] got = actual.toFloatArray();
        int cols = expected[0].length;
        if (got.length != expected.length * cols) {
            throw new AssertionError(
                    "shape mismatch: expected " + expected.length + "x" + cols + ", got " + actual.getShape());
        }
        double max = 0;
        for (int i = 0; i < expected.length; i++) {
            for (int j = 0; j < cols; j++) {
                max = Math.max(max, Math.abs(expected[i][j] - got[i * cols + j]));
            }
        }
        return max;
    }

    /** Converts to a float32 NDArray. */
    public static NDArray toArray(NDManager manager, double[][] m) {
        float[] flat = new float[m.length * m[0].length];
        for (int i = 0; i < m.length; i++) {
            for (int j = 0; j < m[0].length; j++) {
                flat[i * m[0].length + j] = (float) m[i][j];
            }
        }
        return manager.create(flat, new Shape(m.length, m[0].length));
    }

    /** Reads a 2-D NDArray. */
    public static double[][] of(NDArray a) {
        long rows = a.getShape().get(0);
        long cols = a.getShape().get(1);
        float[] flat = a.toFloatArray();
        double[][] m = new double[(int) rows][(int) cols];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                m[i][j] = flat[(int) (i * cols + j)];
            }
        }
        return m;
    }

    /** Overwrites an array's values in place. */
    public static void assign(NDArray target, double[][] values) {
        try (NDArray src = toArray(target.getManager(), values)) {
            target.set(new NDIndex(":"), src);
        }
    }

    /** Rounds values through float so the dense reference sees exactly what the engine holds. */
    public static double[][] asFloat(double[][] m) {
        double[][] r = new double[m.length][m[0].length];
        for (int i = 0; i < m.length; i++) {
            for (int j = 0; j < m[0].length; j++) {
                r[i][j] = (float) m[i][j];
            }
        }
        return r;
    }
}
