package dev.delora.djl.testmethod;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.delora.core.LinearAdapter;
import dev.delora.core.LoraFactors;
import dev.delora.core.array.ArrayOps;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/** {@code Δy = scale · (x·v) u}, the adapter of {@link OuterConfig}. */
final class OuterAdapter implements LinearAdapter {

    static final String U = "outer_u";
    static final String V = "outer_v";

    private final Parameter u;
    private final Parameter v;
    private final float scale;

    OuterAdapter(NDArray u, NDArray v, float scale) {
        this.u = ArrayOps.trainable(U, u);
        this.v = ArrayOps.trainable(V, v);
        this.scale = scale;
    }

    static OuterAdapter initialise(float scale, long out, long in, NDManager manager) {
        // u = 0 so that the adapted model starts as the base model, as LoRA's B = 0
        return new OuterAdapter(
                manager.zeros(new Shape(out)),
                manager.randomNormal(new Shape(in)).mul(0.1f),
                scale);
    }

    @Override
    public Map<String, Parameter> parameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        m.put(U, u);
        m.put(V, v);
        return m;
    }

    @Override
    public Map<String, NDArray> buffers() {
        return Map.of();
    }

    @Override
    public NDArray forward(NDArray x, Function<Parameter, NDArray> values, boolean training) {
        NDArray t = x.matMul(values.apply(v).reshape(-1, 1)); // [..., 1]
        return ArrayOps.scaled(t.mul(values.apply(u).reshape(1, -1)), scale);
    }

    @Override
    public LoraFactors toLora() {
        return new LoraFactors(
                v.getArray().reshape(1, -1).duplicate(),
                u.getArray().reshape(-1, 1).duplicate(),
                scale);
    }

    @Override
    public int rank() {
        return 1;
    }
}
