package dev.delora.core.linalg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class SymmetricEigenTest {

    @Test
    void twoByTwoClosedForm() {
        // [[2,1],[1,2]] has eigenvalues 3 and 1 with eigenvectors (1,1)/√2 and (1,−1)/√2.
        SymmetricEigen e = SymmetricEigen.of(new double[][] {{2, 1}, {1, 2}});
        assertArrayEquals(new double[] {3, 1}, e.values(), 1e-14);
        double h = Math.sqrt(0.5);
        assertEquals(h, Math.abs(e.vectors()[0][0]), 1e-14);
        assertEquals(h, Math.abs(e.vectors()[1][0]), 1e-14);
        assertEquals(e.vectors()[0][0], e.vectors()[1][0], 1e-14);
        assertEquals(e.vectors()[0][1], -e.vectors()[1][1], 1e-14);
    }

    @Test
    void recoversKnownSpectrumIncludingTinyAndNegativeValues() {
        int n = 12;
        double[] lambda = {50, 20, 7, 3, 1, 0.5, 1e-3, 1e-6, 0, -0.25, -2, -9};
        double[][] q = TestMatrices.orthonormalColumns(n, n, 3);
        double[][] a = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                for (int l = 0; l < n; l++) {
                    a[i][j] += q[i][l] * lambda[l] * q[j][l];
                }
            }
        }
        SymmetricEigen e = SymmetricEigen.of(a);
        assertArrayEquals(lambda, e.values(), 1e-12);
        // Eigenvector check A v = λ v and VᵀV = I.
        for (int c = 0; c < n; c++) {
            for (int i = 0; i < n; i++) {
                double av = 0;
                for (int j = 0; j < n; j++) {
                    av += a[i][j] * e.vectors()[j][c];
                }
                assertEquals(e.values()[c] * e.vectors()[i][c], av, 1e-12);
            }
            for (int d = 0; d < n; d++) {
                double dot = 0;
                for (int i = 0; i < n; i++) {
                    dot += e.vectors()[i][c] * e.vectors()[i][d];
                }
                assertEquals(c == d ? 1 : 0, dot, 1e-13);
            }
        }
    }

    @Test
    void rejectsNonSymmetricAndNonSquare() {
        assertThrows(IllegalArgumentException.class, () -> SymmetricEigen.of(new double[][] {{1, 2}, {0, 1}}));
        assertThrows(IllegalArgumentException.class, () -> SymmetricEigen.of(new double[][] {{1, 2}, {2}}));
    }
}
