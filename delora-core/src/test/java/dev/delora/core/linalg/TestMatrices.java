package dev.delora.core.linalg;

import java.util.Random;

/** Matrices with a known spectrum, built on the host in plain double arithmetic (independent of the code under test).
 * */
final class TestMatrices {

    private TestMatrices() {}

    /** An m×t matrix with orthonormal columns: modified Gram–Schmidt, run twice, on Gaussian columns. */
    static double[][] orthonormalColumns(int m, int t, long seed) {
        Random random = new Random(seed);
        double[][] a = new double[m][t];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < t; j++) {
                a[i][j] = random.nextGaussian();
            }
        }
        for (int pass = 0; pass < 2; pass++) {
            for (int j = 0; j < t; j++) {
                for (int p = 0; p < j; p++) {
                    double dot = 0;
                    for (int i = 0; i < m; i++) {
                        dot += a[i][p] * a[i][j];
                    }
                    for (int i = 0; i < m; i++) {
                        a[i][j] -= dot * a[i][p];
                    }
                }
                double norm = 0;
                for (int i = 0; i < m; i++) {
                    norm += a[i][j] * a[i][j];
                }
                norm = Math.sqrt(norm);
                for (int i = 0; i < m; i++) {
                    a[i][j] /= norm;
                }
            }
        }
        return a;
    }

    /** W = U·diag(sigma)·Vᵀ, row-major flattened, with random orthonormal U (m×t) and V (n×t), t = sigma.length. */
    static double[] withSpectrum(int m, int n, double[] sigma, long seed) {
        int t = sigma.length;
        double[][] u = orthonormalColumns(m, t, seed);
        double[][] v = orthonormalColumns(n, t, seed + 1);
        double[] w = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int l = 0; l < t; l++) {
                    s += u[i][l] * sigma[l] * v[j][l];
                }
                w[i * n + j] = s;
            }
        }
        return w;
    }

    /** 10, 9, …, 1 followed by a small tail 1e-3·0.9^i up to length t. */
    static double[] steppedWithTail(int t) {
        double[] s = new double[t];
        for (int i = 0; i < t; i++) {
            s[i] = i < 10 ? 10 - i : 1e-3 * Math.pow(0.9, i - 10);
        }
        return s;
    }

    /** Slowly decaying σ_i = 1/√(i+1). */
    static double[] slowDecay(int t) {
        double[] s = new double[t];
        for (int i = 0; i < t; i++) {
            s[i] = 1 / Math.sqrt(i + 1);
        }
        return s;
    }

    /** √(Σ_{i≥r} σ_i²): the Eckart–Young optimum of the rank-r Frobenius error. */
    static double optimalError(double[] sigma, int r) {
        double e = 0;
        for (int i = r; i < sigma.length; i++) {
            e += sigma[i] * sigma[i];
        }
        return Math.sqrt(e);
    }
}
