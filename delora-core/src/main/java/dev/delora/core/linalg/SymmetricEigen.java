package dev.delora.core.linalg;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * Eigendecomposition of a small dense symmetric matrix by the cyclic Jacobi method, on the host in double precision.
 *
 * <p>DJL has no eigen solver, and the only eigenproblems {@link RandomizedSvd} needs are (k×k) Gram matrices with
 * k = rank + oversamples (a few dozen), where Jacobi's O(k³) per sweep is negligible and its accuracy (small
 * eigenvalues to high relative precision for well-scaled inputs) is what the orthonormalisation relies on.
 *
 * @param values eigenvalues in descending order
 * @param vectors eigenvectors as columns, row-major: {@code vectors[row][col]} belongs to {@code values[col]}
 */
public record SymmetricEigen(double[] values, double[][] vectors) {

    private static final int MAX_SWEEPS = 100;

    /** Validates that there is one eigenvector column per eigenvalue. */
    public SymmetricEigen {
        if (values == null || vectors == null || vectors.length != values.length) {
            throw new IllegalArgumentException("SymmetricEigen needs n eigenvalues and an n×n vector matrix");
        }
    }

    /**
     * Decomposes {@code a = V diag(λ) Vᵀ}.
     *
     * @param a a square symmetric matrix, row-major; not modified
     * @return eigenvalues (descending) and orthonormal eigenvectors
     * @throws IllegalArgumentException if {@code a} is not square, not finite or not symmetric (relative 1e-8)
     */
    public static SymmetricEigen of(double[][] a) {
        int n = a.length;
        double[][] m = new double[n][];
        double scale = 0;
        for (int i = 0; i < n; i++) {
            if (a[i].length != n) {
                throw new IllegalArgumentException("SymmetricEigen needs a square matrix; row " + i + " has "
                        + a[i].length + " entries, expected " + n);
            }
            m[i] = a[i].clone();
            for (double x : m[i]) {
                if (!Double.isFinite(x)) {
                    throw new IllegalArgumentException("SymmetricEigen: matrix row " + i + " has a non-finite entry");
                }
                scale = Math.max(scale, Math.abs(x));
            }
        }
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                if (Math.abs(m[i][j] - m[j][i]) > 1e-8 * Math.max(scale, Double.MIN_NORMAL)) {
                    throw new IllegalArgumentException("SymmetricEigen: matrix is not symmetric at (" + i + "," + j
                            + "): " + m[i][j] + " vs " + m[j][i]);
                }
                double avg = 0.5 * (m[i][j] + m[j][i]);
                m[i][j] = avg;
                m[j][i] = avg;
            }
        }
        double[][] v = new double[n][n];
        for (int i = 0; i < n; i++) {
            v[i][i] = 1;
        }
        double frob = 0;
        for (double[] row : m) {
            for (double x : row) {
                frob += x * x;
            }
        }
        // Stop at round-off level: off-diagonal mass below eps² of the whole matrix cannot move any eigenvalue by
        // more than eps·‖A‖, which is what any backward-stable solver delivers.
        double threshold = 1e-32 * frob;
        for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
            double off = 0;
            for (int p = 0; p < n; p++) {
                for (int q = p + 1; q < n; q++) {
                    off += m[p][q] * m[p][q];
                }
            }
            if (off <= threshold) {
                break;
            }
            for (int p = 0; p < n - 1; p++) {
                for (int q = p + 1; q < n; q++) {
                    double apq = m[p][q];
                    if (apq == 0) {
                        continue;
                    }
                    double theta = (m[q][q] - m[p][p]) / (2 * apq);
                    // The smaller root of t² + 2θt − 1 = 0 keeps the rotation angle ≤ π/4 (stable, convergent).
                    double t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    double c = 1 / Math.sqrt(t * t + 1);
                    double s = t * c;
                    for (int k = 0; k < n; k++) {
                        double mkp = m[k][p];
                        double mkq = m[k][q];
                        m[k][p] = c * mkp - s * mkq;
                        m[k][q] = s * mkp + c * mkq;
                    }
                    for (int k = 0; k < n; k++) {
                        double mpk = m[p][k];
                        double mqk = m[q][k];
                        m[p][k] = c * mpk - s * mqk;
                        m[q][k] = s * mpk + c * mqk;
                    }
                    m[p][q] = 0;
                    m[q][p] = 0;
                    for (int k = 0; k < n; k++) {
                        double vkp = v[k][p];
                        double vkq = v[k][q];
                        v[k][p] = c * vkp - s * vkq;
                        v[k][q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        double[] diag = new double[n];
        for (int i = 0; i < n; i++) {
            diag[i] = m[i][i];
        }
        Integer[] order = IntStream.range(0, n).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> diag[i]).reversed());
        double[] values = new double[n];
        double[][] vectors = new double[n][n];
        for (int c = 0; c < n; c++) {
            values[c] = diag[order[c]];
            for (int r = 0; r < n; r++) {
                vectors[r][c] = v[r][order[c]];
            }
        }
        return new SymmetricEigen(values, vectors);
    }
}
