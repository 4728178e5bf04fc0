package dev.delora.core.delora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import dev.delora.core.LinearAdapter;
import dev.delora.core.LoraFactors;
import dev.delora.core.array.ArrayOps;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * A DeLoRA branch. With {@code sᵢ = (λ/r)/(‖aᵢ‖‖bᵢ‖)} and {@code w = ‖W_{:,j}‖} (fixed at creation):
 * {@code Δy = B·(s ⊙ A·(w ⊙ x))}, and in {@link DeloraInit#PAPER} mode minus the same term of the frozen copies C, D
 * (which share λ, so ΔW = 0 at start and ∂L/∂λ = 0 at step 0).
 *
 * <p>The dense ΔW is never built in the forward pass. Norms are floored at 1e-4 (PEFT's clamp) through
 * {@link ArrayOps#safeNorm}, which keeps gradients finite when B = 0.
 */
public final class DeloraAdapter implements LinearAdapter {

    /** State-dict key of A {@code [r, in]}, as PEFT saves it. */
    public static final String A = "delora_A";
    /** State-dict key of B {@code [out, r]}. */
    public static final String B = "delora_B";
    /** State-dict key of λ {@code [1]}. */
    public static final String LAMBDA = "delora_lambda";
    /** State-dict key of the input-column norms of W {@code [in]}. */
    public static final String W_NORM = "delora_w_norm";
    /** State-dict key of the frozen copy of A (paper mode; the official code's name). */
    public static final String C = "frozen_C";
    /** State-dict key of the frozen copy of B (paper mode; the official code's name). */
    public static final String D = "frozen_D";

    private final Parameter a;
    private final Parameter b;
    private final Parameter lambda;
    private final NDArray wNorm;
    private final NDArray c;
    private final NDArray d;
    /** 1/(‖cᵢ‖‖dᵢ‖): C and D never change, so this is computed once. */
    private final NDArray cdInverseNorms;

    private final float dropout;
    private final int rank;
    /** 1/r as an array the adapter owns (see {@link ArrayOps#constant}). */
    private final NDArray inverseRank;

    private DeloraAdapter(
            Parameter a, Parameter b, Parameter lambda, NDArray wNorm, NDArray c, NDArray d, float dropout) {
        this.a = a;
        this.b = b;
        this.lambda = lambda;
        this.wNorm = wNorm;
        this.c = c;
        this.d = d;
        this.dropout = dropout;
        this.rank = (int) a.getArray().getShape().get(0);
        this.inverseRank = ArrayOps.constant(a.getArray().getManager(), 1f / rank);
        this.cdInverseNorms = c == null
                ? null
                : ArrayOps.inStepScope(
                                c,
                                () -> new NDList(ArrayOps.safeNorm(c, 1)
                                        .mul(ArrayOps.safeNorm(d, 0))
                                        .pow(-1)))
                        .head();
    }

    static DeloraAdapter initialise(DeloraConfig config, String path, NDArray weight, NDManager manager) {
        int r = config.rankFor(path);
        long out = weight.getShape().get(0);
        long in = weight.getShape().get(1);
        NDArray a = ArrayOps.kaimingUniform(manager, new Shape(r, in));
        NDArray b = config.init() == DeloraInit.ZERO_B
                ? manager.zeros(new Shape(out, r), DataType.FLOAT32)
                : ArrayOps.kaimingUniform(manager, new Shape(out, r));
        // deep copies: the official code aliases C/D with A/B (`frozen_C.data = delora_A.weight.data`), which
        // silently makes ΔW ≡ 0 on any run that does not move the model to another device
        NDArray c = config.init() == DeloraInit.PAPER ? a.duplicate() : null;
        NDArray d = config.init() == DeloraInit.PAPER ? b.duplicate() : null;
        return new DeloraAdapter(
                ArrayOps.trainable(A, a),
                ArrayOps.trainable(B, b),
                ArrayOps.trainable(LAMBDA, manager.create(new float[] {config.lambdaFor(path)})),
                columnNorms(weight, manager),
                c,
                d,
                config.moduleDropout());
    }

    /**
     * Restores an adapter from saved state (the values are copied into new arrays on {@code manager}).
     *
     * @param state the saved arrays keyed by {@link #A}, {@link #B}, {@link #LAMBDA}, {@link #W_NORM} and, in paper
     *     mode, {@link #C} and {@link #D}
     * @param dropout the adapter-input dropout
     * @param manager the owner of the new arrays
     * @return the adapter
     */
    public static DeloraAdapter restore(Map<String, NDArray> state, float dropout, NDManager manager) {
        NDArray c = state.get(C);
        NDArray d = state.get(D);
        if ((c == null) != (d == null)) {
            throw new IllegalArgumentException("A DeLoRA paper-mode adapter needs both " + C + " and " + D);
        }
        return new DeloraAdapter(
                ArrayOps.trainable(A, copy(state, A, manager)),
                ArrayOps.trainable(B, copy(state, B, manager)),
                ArrayOps.trainable(LAMBDA, copy(state, LAMBDA, manager)),
                copy(state, W_NORM, manager),
                c == null ? null : copy(state, C, manager),
                d == null ? null : copy(state, D, manager),
                dropout);
    }

    private static NDArray copy(Map<String, NDArray> state, String key, NDManager manager) {
        NDArray v = state.get(key);
        if (v == null) {
            throw new IllegalArgumentException("DeLoRA state is missing '" + key + "'; found " + state.keySet());
        }
        return manager.create(v.toType(DataType.FLOAT32, false).toFloatArray(), v.getShape());
    }

    private static NDArray columnNorms(NDArray weight, NDManager manager) {
        NDArray norms = weight.toType(DataType.FLOAT32, false).norm(new int[] {0});
        norms.attach(manager);
        return norms;
    }

    /**
     * Tells whether this adapter subtracts frozen copies (paper mode).
     *
     * @return true in {@link DeloraInit#PAPER} mode
     */
    public boolean hasFrozenCopies() {
        return c != null;
    }

    @Override
    public Map<String, Parameter> parameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        m.put(A, a);
        m.put(B, b);
        m.put(LAMBDA, lambda);
        return m;
    }

    @Override
    public Map<String, NDArray> buffers() {
        Map<String, NDArray> m = new LinkedHashMap<>();
        m.put(W_NORM, wNorm);
        if (c != null) {
            m.put(C, c);
            m.put(D, d);
        }
        return m;
    }

    /** sᵢ = (λ/r)/(‖aᵢ‖‖bᵢ‖) for the trainable pair. */
    private NDArray scales(NDArray av, NDArray bv, NDArray lambdaValue) {
        NDArray norms = ArrayOps.safeNorm(av, 1).mul(ArrayOps.safeNorm(bv, 0));
        return lambdaValue.mul(ArrayOps.onDevice(inverseRank, av)).div(norms);
    }

    /**
     * The down factor of ΔW = up · down, the one place DeLoRA's scaling is written: {@code (s ⊙ A) ⊙ w}
     * {@code [r, in]}, in paper mode stacked with the frozen copy ({@code [A; C]}, scales
     * {@code [s; −(λ/r)/(‖cᵢ‖‖dᵢ‖)]}). Folding the scales and ‖W‖ into this small matrix lets the forward pass read the
     * {@code [N, in]} input once, with no full-size multiply.
     */
    private NDArray down(NDArray av, NDArray bv, NDArray lambdaValue, NDArray like) {
        NDArray w = ArrayOps.onDevice(wNorm, like).expandDims(0);
        NDArray s = scales(av, bv, lambdaValue);
        if (c == null) {
            return av.mul(s.expandDims(1)).mul(w);
        }
        NDArray sc = lambdaValue
                .mul(ArrayOps.onDevice(inverseRank, like))
                .mul(ArrayOps.onDevice(cdInverseNorms, like))
                .neg();
        return av.concat(ArrayOps.onDevice(c, like), 0)
                .mul(s.concat(sc, 0).expandDims(1))
                .mul(w);
    }

    /** The up factor in paper mode, {@code [B, D]} (in plain mode it is B itself). */
    private NDArray stackedUp(NDArray bv, NDArray like) {
        return bv.concat(ArrayOps.onDevice(d, like), 1);
    }

    @Override
    public NDArray forward(NDArray x, Function<Parameter, NDArray> values, boolean training) {
        NDArray av = values.apply(a);
        NDArray bv = values.apply(b);
        NDArray lambdaValue = values.apply(lambda);
        NDArray h = ArrayOps.dropout(x, dropout, training);
        // the scope hands its results to the step, so B itself (the model's) must not be among them
        NDList f = ArrayOps.inStepScope(
                x,
                () -> c == null
                        ? new NDList(down(av, bv, lambdaValue, x))
                        : new NDList(down(av, bv, lambdaValue, x), stackedUp(bv, x)));
        NDArray up = c == null ? bv : f.get(1);
        return Linear.linear(Linear.linear(h, f.get(0)).singletonOrThrow(), up).singletonOrThrow();
    }

    @Override
    public LoraFactors toLora() {
        NDArray av = a.getArray();
        NDArray bv = b.getArray();
        // temporaries (norms, scales, views) die in the scope; only the two factors are kept, as new arrays
        NDList f = ArrayOps.inStepScope(
                av,
                () -> new NDList(down(av, bv, lambda.getArray(), av), c == null ? bv.duplicate() : stackedUp(bv, av)));
        return new LoraFactors(f.get(0), f.get(1), 1f);
    }

    @Override
    public void close() {
        LinearAdapter.super.close();
        inverseRank.close();
        if (cdInverseNorms != null) {
            cdInverseNorms.close();
        }
    }

    @Override
    public int rank() {
        return rank;
    }
}
