package dev.delora.core.linalg;

import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Random;

/**
 * Randomised truncated SVD (Halko, Martinsson &amp; Tropp 2011, algorithms 4.4 + 5.1) on DJL NDArrays.
 *
 * <p>DJL has no SVD, QR or eigen solver. Everything of size m×n runs as NDArray {@code matMul} on the input's device
 * (in float64 where the engine supports it); only k×k Gram matrices (k = rank + oversamples) travel to the host,
 * where {@link SymmetricEigen} solves them. Orthonormalisation is "Gram-eigen" QR done twice: {@code Q = Y·V·Λ^-½}
 * from {@code YᵀY = VΛVᵀ}; the second pass restores the orthogonality the first loses to the squared condition
 * number. Directions whose Gram eigenvalue is below round-off are dropped, so exactly low-rank inputs work.
 *
 * <p>The Gaussian test matrix comes from {@link java.util.Random} (whose {@code nextGaussian} is specified exactly
 * by its Javadoc), not from the engine RNG: the result depends only on the input and the seed, on every engine.
 * Signs are canonical: the entry of largest magnitude in each column of U is positive (scikit-learn's
 * {@code svd_flip} applied to the decomposition of Wᵀ, which is what LoRA-XS calls).
 */
public final class RandomizedSvd {

    private RandomizedSvd() {}

    /**
     * Settings of one decomposition.
     *
     * @param rank number of singular triplets to return, r ≥ 1
     * @param oversamples extra sketch columns p ≥ 0 (the sketch has k = min(r + p, m, n) columns)
     * @param powerIterations subspace iterations q ≥ 0, each one re-orthonormalised
     * @param seed seed of the Gaussian test matrix
     * @param preferFloat64 compute in float64 when the engine/device supports it (else float32)
     */
    public record Options(int rank, int oversamples, int powerIterations, long seed, boolean preferFloat64) {

        /** Validates the counts. */
        public Options {
            if (rank < 1) {
                throw new IllegalArgumentException("RandomizedSvd rank must be >= 1, got " + rank);
            }
            if (oversamples < 0) {
                throw new IllegalArgumentException("RandomizedSvd oversamples must be >= 0, got " + oversamples);
            }
            if (powerIterations < 0) {
                throw new IllegalArgumentException(
                        "RandomizedSvd powerIterations must be >= 0, got " + powerIterations);
            }
        }

        /**
         * Defaults mirroring LoRA-XS's call {@code TruncatedSVD(n_components=r, n_iter=10, random_state=42)} with
         * scikit-learn's default 10 oversamples, in float64.
         *
         * @param rank the rank r
         * @return the options
         */
        public static Options of(int rank) {
            return new Options(rank, 10, 10, 42L, true);
        }

        /**
         * Returns a copy with another seed.
         *
         * @param newSeed the seed
         * @return the options
         */
        public Options withSeed(long newSeed) {
            return new Options(rank, oversamples, powerIterations, newSeed, preferFloat64);
        }

        /**
         * Returns a copy with another number of power iterations.
         *
         * @param q the number of power iterations
         * @return the options
         */
        public Options withPowerIterations(int q) {
            return new Options(rank, oversamples, q, seed, preferFloat64);
        }

        /**
         * Returns a copy with another oversampling.
         *
         * @param p the number of oversamples
         * @return the options
         */
        public Options withOversamples(int p) {
            return new Options(rank, p, powerIterations, seed, preferFloat64);
        }
    }

    /**
     * A truncated decomposition {@code W ≈ U·diag(S)·Vt}, attached to the input's manager, in the input's dtype.
     *
     * @param u left singular vectors, [m, r], orthonormal columns
     * @param s singular values, [r], descending
     * @param vt right singular vectors, [r, n], orthonormal rows
     */
    public record Result(NDArray u, NDArray s, NDArray vt) implements AutoCloseable {

        /** Checks that the three factors are present. */
        public Result {
            if (u == null || s == null || vt == null) {
                throw new IllegalArgumentException("RandomizedSvd.Result needs U, S and Vt");
            }
        }

        /** Closes the three arrays. */
        @Override
        public void close() {
            u.close();
            s.close();
            vt.close();
        }
    }

    /**
     * Computes the rank-r truncated SVD of a 2-D floating-point matrix.
     *
     * @param matrix W, shape [m, n]; not modified
     * @param options rank, oversampling, power iterations, seed
     * @return U [m, r], S [r], Vt [r, n] attached to {@code matrix.getManager()}
     * @throws IllegalArgumentException if W is not a 2-D float matrix, r &gt; min(m, n), or W's numerical rank is
     *     below r (the trailing singular vectors would be arbitrary)
     */
    public static Result decompose(NDArray matrix, Options options) {
        Shape shape = matrix.getShape();
        if (shape.dimension() != 2) {
            throw new IllegalArgumentException("RandomizedSvd needs a 2-D matrix, got shape " + shape);
        }
        DataType inType = matrix.getDataType();
        if (!inType.isFloating()) {
            throw new IllegalArgumentException("RandomizedSvd needs a floating-point matrix, got " + inType);
        }
        int m = Math.toIntExact(shape.get(0));
        int n = Math.toIntExact(shape.get(1));
        int r = options.rank();
        if (r > Math.min(m, n)) {
            throw new IllegalArgumentException(
                    "RandomizedSvd rank " + r + " exceeds min(m, n) of the " + m + "×" + n + " matrix");
        }
        int k = Math.min(r + options.oversamples(), Math.min(m, n));
        NDManager out = matrix.getManager();
        try (NDManager sub = out.newSubManager(matrix.getDevice())) {
            NDArray w = workCopy(matrix, sub, options.preferFloat64());
            boolean f64 = w.getDataType() == DataType.FLOAT64;
            double tol = f64 ? 1e-13 : 1e-6;
            NDArray wt = w.transpose();
            NDArray omega = gaussian(sub, n, k, options.seed()).toType(w.getDataType(), false);
            NDArray q = orthonormalize(w.matMul(omega), tol);
            for (int i = 0; i < options.powerIterations(); i++) {
                NDArray z = orthonormalize(wt.matMul(q), tol);
                q = orthonormalize(w.matMul(z), tol);
            }
            NDArray b = q.transpose().matMul(w); // [k', n]
            int kk = Math.toIntExact(b.getShape().get(0));
            SymmetricEigen eig = SymmetricEigen.of(toSquare(b.matMul(b.transpose()), kk));
            double lambdaMax = Math.max(eig.values()[0], 0);
            if (kk < r || eig.values()[r - 1] <= tol * lambdaMax || lambdaMax == 0) {
                throw new IllegalArgumentException("RandomizedSvd: the " + m + "×" + n + " matrix has numerical rank "
                        + "below the requested rank " + r + "; its trailing singular vectors are not defined");
            }
            double[] ub = new double[kk * r];
            double[] sv = new double[r];
            for (int j = 0; j < r; j++) {
                sv[j] = Math.sqrt(eig.values()[j]);
                for (int i = 0; i < kk; i++) {
                    ub[i * r + j] = eig.vectors()[i][j];
                }
            }
            NDArray ubArr = sub.create(ub, new Shape(kk, r)).toType(w.getDataType(), false);
            NDArray u = q.matMul(ubArr); // [m, r]
            double[] uHost = u.toType(DataType.FLOAT64, false).toDoubleArray();
            double[] sign = new double[r];
            double[] invS = new double[r];
            for (int j = 0; j < r; j++) {
                int arg = 0;
                for (int i = 1; i < m; i++) {
                    if (Math.abs(uHost[i * r + j]) > Math.abs(uHost[arg * r + j])) {
                        arg = i;
                    }
                }
                sign[j] = uHost[arg * r + j] < 0 ? -1 : 1;
                invS[j] = sign[j] / sv[j];
            }
            NDArray signRow = sub.create(sign, new Shape(1, r)).toType(w.getDataType(), false);
            NDArray invSCol = sub.create(invS, new Shape(r, 1)).toType(w.getDataType(), false);
            // Vt = diag(sign/S)·U_Bᵀ·B: the right vectors follow from B = U_B·Σ·Vt without a second eigenproblem.
            NDArray vt = ubArr.transpose().matMul(b).mul(invSCol);
            NDArray uOut = u.mul(signRow).toType(inType, false);
            NDArray vtOut = vt.toType(inType, false);
            NDArray sOut = sub.create(sv).toType(inType, false);
            uOut.attach(out);
            vtOut.attach(out);
            sOut.attach(out);
            return new Result(uOut, sOut, vtOut);
        }
    }

    private static NDArray workCopy(NDArray matrix, NDManager sub, boolean preferFloat64) {
        NDArray w = matrix.duplicate();
        w.attach(sub);
        if (preferFloat64 && w.getDataType() != DataType.FLOAT64) {
            try {
                return w.toType(DataType.FLOAT64, false);
            } catch (EngineException | UnsupportedOperationException e) {
                // Devices without float64 (e.g. Apple MPS) fall through to float32: accuracy drops to ~1e-6.
            }
        }
        return w.getDataType() == DataType.FLOAT64 ? w : w.toType(DataType.FLOAT32, false);
    }

    private static NDArray gaussian(NDManager manager, int rows, int cols, long seed) {
        Random random = new Random(seed);
        double[] data = new double[rows * cols];
        for (int i = 0; i < data.length; i++) {
            data[i] = random.nextGaussian();
        }
        return manager.create(data, new Shape(rows, cols));
    }

    /**
     * Orthonormal basis of the column space of {@code y} via two rounds of Gram-eigen QR, dropping directions at
     * round-off level.
     */
    private static NDArray orthonormalize(NDArray y, double tol) {
        NDArray q = y;
        for (int pass = 0; pass < 2; pass++) {
            int k = Math.toIntExact(q.getShape().get(1));
            SymmetricEigen eig = SymmetricEigen.of(toSquare(q.transpose().matMul(q), k));
            double max = eig.values()[0];
            int keep = 0;
            while (keep < k && max > 0 && eig.values()[keep] > tol * max) {
                keep++;
            }
            if (keep == 0) {
                throw new IllegalArgumentException("RandomizedSvd: the matrix is zero (its sketch has no range)");
            }
            double[] t = new double[k * keep];
            for (int j = 0; j < keep; j++) {
                double scale = 1 / Math.sqrt(eig.values()[j]);
                for (int i = 0; i < k; i++) {
                    t[i * keep + j] = eig.vectors()[i][j] * scale;
                }
            }
            NDArray tArr = y.getManager().create(t, new Shape(k, keep)).toType(q.getDataType(), false);
            q = q.matMul(tArr);
        }
        return q;
    }

    private static double[][] toSquare(NDArray g, int k) {
        double[] flat = g.toType(DataType.FLOAT64, false).toDoubleArray();
        double[][] out = new double[k][k];
        for (int i = 0; i < k; i++) {
            System.arraycopy(flat, i * k, out[i], 0, k);
        }
        return out;
    }
}
