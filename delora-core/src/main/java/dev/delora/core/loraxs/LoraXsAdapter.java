package dev.delora.core.loraxs;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import dev.delora.core.LinearAdapter;
import dev.delora.core.LoraFactors;
import dev.delora.core.array.ArrayOps;
import dev.delora.core.linalg.RandomizedSvd;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * A LoRA-XS branch {@code Δy = scaling · U_r R (Σ_r V_rᵀ · dropout(x))} with frozen {@code A = Σ_r V_rᵀ} {@code [r,
 * in]},
 * {@code B = U_r} {@code [out, r]} and trainable {@code R} {@code [r, r]}.
 */
public final class LoraXsAdapter implements LinearAdapter {

    /** State-dict key of the frozen A = Σ_r V_rᵀ (the reference saves it under LoRA's name). */
    public static final String A = "lora_A.weight";
    /** State-dict key of the frozen B = U_r. */
    public static final String B = "lora_B.weight";
    /** State-dict key of the trainable R (the reference's {@code lora_latent_mapping}). */
    public static final String R = "lora_latent_mapping.weight";

    private final NDArray a;
    private final NDArray b;
    private final Parameter r;
    private final float scaling;
    private final NDArray scalingArray;
    private final float dropout;

    private LoraXsAdapter(NDArray a, NDArray b, Parameter r, float scaling, float dropout) {
        this.a = a;
        this.b = b;
        this.r = r;
        this.scaling = scaling;
        this.scalingArray = ArrayOps.constant(a.getManager(), scaling);
        this.dropout = dropout;
    }

    static LoraXsAdapter initialise(
            NDArray weight, RandomizedSvd.Options svd, float initStd, float scaling, float dropout, NDManager manager) {
        NDArray a;
        NDArray b;
        try (RandomizedSvd.Result result = RandomizedSvd.decompose(weight, svd)) {
            a = result.vt().mul(result.s().expandDims(1)).toType(DataType.FLOAT32, false);
            b = ArrayOps.ownedCopy(result.u());
        }
        a.attach(manager);
        b.attach(manager);
        int rank = svd.rank();
        NDArray rInit = manager.randomNormal(0f, initStd, new Shape(rank, rank), DataType.FLOAT32);
        return new LoraXsAdapter(a, b, ArrayOps.trainable(R, rInit), scaling, dropout);
    }

    /**
     * Restores an adapter from saved state (values copied to {@code manager}).
     *
     * @param state arrays keyed by {@link #A}, {@link #B} and {@link #R}
     * @param scaling α/r
     * @param dropout the adapter-input dropout
     * @param manager the owner of the new arrays
     * @return the adapter
     */
    public static LoraXsAdapter restore(Map<String, NDArray> state, float scaling, float dropout, NDManager manager) {
        for (String key : new String[] {A, B, R}) {
            if (!state.containsKey(key)) {
                throw new IllegalArgumentException("LoRA-XS state is missing '" + key + "'; found " + state.keySet());
            }
        }
        NDArray a = ArrayOps.ownedCopy(state.get(A));
        NDArray b = ArrayOps.ownedCopy(state.get(B));
        NDArray r = ArrayOps.ownedCopy(state.get(R));
        a.attach(manager);
        b.attach(manager);
        r.attach(manager);
        return new LoraXsAdapter(a, b, ArrayOps.trainable(R, r), scaling, dropout);
    }

    /**
     * Returns the scaling applied to {@code B·R·A}.
     *
     * @return α/r
     */
    public float scaling() {
        return scaling;
    }

    @Override
    public Map<String, Parameter> parameters() {
        return Map.of(R, r);
    }

    @Override
    public Map<String, NDArray> buffers() {
        Map<String, NDArray> m = new LinkedHashMap<>();
        m.put(A, a);
        m.put(B, b);
        return m;
    }

    @Override
    public NDArray forward(NDArray x, Function<Parameter, NDArray> values, boolean training) {
        NDArray h = ArrayOps.dropout(x, dropout, training);
        NDArray t = Linear.linear(h, ArrayOps.onDevice(a, x)).singletonOrThrow();
        t = Linear.linear(t, values.apply(r)).singletonOrThrow().mul(ArrayOps.onDevice(scalingArray, x));
        return Linear.linear(t, ArrayOps.onDevice(b, x)).singletonOrThrow();
    }

    @Override
    public LoraFactors toLora() {
        return new LoraFactors(a.duplicate(), b.matMul(r.getArray()), scaling);
    }

    @Override
    public void close() {
        LinearAdapter.super.close();
        scalingArray.close();
    }

    @Override
    public int rank() {
        return (int) a.getShape().get(0);
    }
}
