package dev.delora.core.lora;

import ai.djl.ndarray.NDArray;
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

/** A LoRA branch {@code Δy = scaling · B (A · dropout(x))} with A {@code [r, in]} and B {@code [out, r]}. */
public final class LoraAdapter implements LinearAdapter {

    /** State-dict key of A, as PEFT saves it. */
    public static final String A = "lora_A.weight";
    /** State-dict key of B, as PEFT saves it. */
    public static final String B = "lora_B.weight";

    private final Parameter a;
    private final Parameter b;
    private final float scaling;
    private final NDArray scalingArray;
    private final float dropout;
    private final int rank;

    private LoraAdapter(Parameter a, Parameter b, float scaling, float dropout) {
        this.a = a;
        this.b = b;
        this.scaling = scaling;
        this.scalingArray = ArrayOps.constant(a.getArray().getManager(), scaling);
        this.dropout = dropout;
        this.rank = (int) a.getArray().getShape().get(0);
    }

    static LoraAdapter initialise(LoraConfig config, String path, Shape weightShape, NDManager manager) {
        int r = config.rankFor(path);
        long out = weightShape.get(0);
        long in = weightShape.get(1);
        NDArray a;
        NDArray b;
        switch (config.initLoraWeights()) {
            case DEFAULT -> {
                a = ArrayOps.kaimingUniform(manager, new Shape(r, in));
                b = manager.zeros(new Shape(out, r), DataType.FLOAT32);
            }
            case GAUSSIAN -> {
                a = manager.randomNormal(0f, 1f / r, new Shape(r, in), DataType.FLOAT32);
                b = manager.zeros(new Shape(out, r), DataType.FLOAT32);
            }
            case RANDOM -> {
                a = ArrayOps.kaimingUniform(manager, new Shape(r, in));
                b = ArrayOps.kaimingUniform(manager, new Shape(out, r));
            }
            default -> throw new IllegalStateException(config.initLoraWeights().name());
        }
        return new LoraAdapter(
                ArrayOps.trainable(A, a), ArrayOps.trainable(B, b), config.scalingFor(path), config.loraDropout());
    }

    /**
     * Builds a LoRA adapter holding given factors (copied): the exact target of every method's conversion.
     *
     * @param factors the factors; A {@code [k, in]}, B {@code [out, k]}
     * @param dropout the adapter-input dropout
     * @param manager the owner of the new arrays
     * @return a trainable LoRA adapter of rank k
     */
    public static LoraAdapter fromFactors(LoraFactors factors, float dropout, NDManager manager) {
        NDArray a = ArrayOps.ownedCopy(factors.a());
        NDArray b = ArrayOps.ownedCopy(factors.b());
        a.attach(manager);
        b.attach(manager);
        return new LoraAdapter(ArrayOps.trainable(A, a), ArrayOps.trainable(B, b), factors.scaling(), dropout);
    }

    /**
     * Returns the scaling applied to {@code B·A}.
     *
     * @return α/r or α/√r
     */
    public float scaling() {
        return scaling;
    }

    @Override
    public Map<String, Parameter> parameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        m.put(A, a);
        m.put(B, b);
        return m;
    }

    @Override
    public Map<String, NDArray> buffers() {
        return Map.of();
    }

    @Override
    public NDArray forward(NDArray x, Function<Parameter, NDArray> values, boolean training) {
        NDArray h = ArrayOps.dropout(x, dropout, training);
        // scale the rank-r intermediate, not the [.., out] result: r multiplications per row instead of out
        NDArray t = Linear.linear(h, values.apply(a)).singletonOrThrow().mul(ArrayOps.onDevice(scalingArray, x));
        return Linear.linear(t, values.apply(b)).singletonOrThrow();
    }

    @Override
    public LoraFactors toLora() {
        return new LoraFactors(a.getArray().duplicate(), b.getArray().duplicate(), scaling);
    }

    @Override
    public void close() {
        LinearAdapter.super.close();
        scalingArray.close();
    }

    @Override
    public int rank() {
        return rank;
    }
}
