package dev.delora.core.dora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import dev.delora.core.FrozenLinear;
import dev.delora.core.LinearAdapter;
import dev.delora.core.LoraFactors;
import dev.delora.core.WeightUpdate;
import dev.delora.core.array.ArrayOps;
import dev.delora.core.lora.LoraAdapter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * A DoRA branch over a frozen {@code Linear}: the merged weight is {@code W' = m ⊙ (W + s·B A) / ‖W + s·B A‖}, the
 * norm taken per output row, {@code m [out]} trainable.
 *
 * <p>The forward pass is PEFT's decomposition (DoRA §4.3): with {@code g = m / ‖W + s·B A‖} (the norm detached from
 * the graph) and {@code h} the input after dropout, it adds {@code (g − 1) ⊙ W h + g ⊙ s·B A h} to the base output, so
 * it never multiplies the input by a dense {@code W'}. The norm itself needs {@code W + s·B A} densely, as in PEFT.
 * With dropout active, {@code W h} is computed again on the dropped input; otherwise it is the base output minus the
 * bias.
 *
 * <p>There is no plain-LoRA form ({@link #hasLoraForm()} is false): merging rescales rows of {@code W}.
 */
public final class DoraAdapter implements LinearAdapter {

    /** State-dict key of the magnitude {@code m [out]}, as PEFT saves it (its {@code .weight} suffix stripped). */
    public static final String MAGNITUDE = "lora_magnitude_vector";

    private final LoraAdapter lora;
    private final Parameter magnitude;
    private final float dropout;

    private DoraAdapter(LoraAdapter lora, Parameter magnitude, float dropout) {
        this.lora = lora;
        this.magnitude = magnitude;
        this.dropout = dropout;
    }

    static DoraAdapter withInitialMagnitude(LoraAdapter lora, NDArray weight, float dropout, NDManager manager) {
        NDArray m;
        try (NDScope scope = new NDScope();
                LoraFactors f = lora.toLora()) {
            // detached: on a thread that records gradients by default (not the engine's first one), the factors'
            // copies would tie the new parameter to a graph over A and B, walked again by every backward
            m = rowNorms(f.apply(weight.toType(DataType.FLOAT32, true))).stopGradient();
            NDScope.unregister(m);
        }
        m.attach(manager);
        return new DoraAdapter(lora, ArrayOps.trainable(MAGNITUDE, m), dropout);
    }

    static DoraAdapter restore(LoraAdapter lora, NDArray magnitude, float dropout, NDManager manager) {
        NDArray m = ArrayOps.ownedCopy(magnitude);
        m.attach(manager);
        return new DoraAdapter(lora, ArrayOps.trainable(MAGNITUDE, m), dropout);
    }

    /** PEFT's {@code torch.linalg.norm(W, dim=1)}: no floor, as in PEFT (a zero row gives an infinite scale). */
    private static NDArray rowNorms(NDArray w) {
        return w.square().sum(new int[] {1}).sqrt();
    }

    @Override
    public Map<String, Parameter> parameters() {
        Map<String, Parameter> m = new LinkedHashMap<>(lora.parameters());
        m.put(MAGNITUDE, magnitude);
        return m;
    }

    @Override
    public Map<String, NDArray> buffers() {
        return Map.of();
    }

    /**
     * Not available: DoRA's update depends on the base weight.
     *
     * @throws UnsupportedOperationException always; modules call {@link #forward(NDArray, FrozenLinear, Function,
     *     boolean)}
     */
    @Override
    public NDArray forward(NDArray x, Function<Parameter, NDArray> values, boolean training) {
        throw new UnsupportedOperationException("DoRA's update depends on the base weight; call forward(x, base, ...)");
    }

    @Override
    public NDArray forward(NDArray x, FrozenLinear base, Function<Parameter, NDArray> values, boolean training) {
        Map<String, Parameter> p = lora.parameters();
        NDArray av = values.apply(p.get(LoraAdapter.A));
        NDArray bv = values.apply(p.get(LoraAdapter.B));
        NDArray mv = values.apply(magnitude);
        float s = lora.scaling();
        // g = m / ‖W + s·B A‖ with the norm outside the graph; the temporaries stay out of the model's manager
        NDArray g = ArrayOps.inStepScope(x, () -> {
                    NDArray ba = bv.stopGradient().matMul(av.stopGradient());
                    NDArray norm = rowNorms(base.weight().add(ArrayOps.scaled(ba, s)));
                    return new NDList(mv.div(norm));
                })
                .head();
        NDArray h = ArrayOps.dropout(x, dropout, training);
        NDArray wh = h == x ? base.product() : Linear.linear(h, base.weight()).singletonOrThrow();
        NDArray lowRank = lora.forward(h, values, false); // s·B A h; dropout already applied
        // (g − 1) ⊙ W h + g ⊙ s·B A h, written without a scalar operand in the graph
        return wh.add(lowRank).mul(g).sub(wh);
    }

    @Override
    public boolean hasLoraForm() {
        return false;
    }

    /**
     * Not available: the merged weight {@code m ⊙ (W + ΔW) / ‖W + ΔW‖} is not {@code W} plus a low-rank term.
     *
     * @throws UnsupportedOperationException always
     */
    @Override
    public LoraFactors toLora() {
        throw new UnsupportedOperationException("DoRA has no exact plain-LoRA form: its merged weight "
                + "m ⊙ (W + ΔW) / ‖W + ΔW‖ rescales the rows of W; save it in PEFT's DoRA layout or merge it");
    }

    /**
     * Returns the low-rank part {@code s·B A} alone (the direction update before the magnitude rescales rows).
     *
     * @return the factors, newly allocated
     */
    public LoraFactors directionFactors() {
        return lora.toLora();
    }

    /**
     * Returns the merge {@code W' = (m / ‖W + ΔW‖) ⊙ (W + ΔW)} row-wise; it keeps the row scale it used, so unmerging
     * computes {@code W'/scale − ΔW} as PEFT does with its cached weight norm.
     */
    @Override
    public WeightUpdate weightUpdate(NDArray weight) {
        NDArray m = magnitude.getArray().duplicate();
        return new RowScaledUpdate(lora.toLora(), m);
    }

    @Override
    public double updateNorm(NDArray weight) {
        // dense: W' − W has no low-rank form (one [out, in] temporary per call)
        try (WeightUpdate u = weightUpdate(weight);
                NDArray merged = u.apply(weight);
                NDScope scope = new NDScope()) {
            return Math.sqrt(merged.sub(weight).square().sum().getFloat());
        }
    }

    @Override
    public Shape updateShape() {
        Map<String, Parameter> p = lora.parameters();
        return new Shape(
                p.get(LoraAdapter.B).getArray().getShape().get(0),
                p.get(LoraAdapter.A).getArray().getShape().get(1));
    }

    @Override
    public int rank() {
        return lora.rank();
    }

    @Override
    public void close() {
        lora.close();
        magnitude.close();
    }

    /** DoRA's merge: adds ΔW, then scales each row by {@code m / ‖row‖}; keeps the scale for {@link #revert}. */
    private static final class RowScaledUpdate implements WeightUpdate {
        private final LoraFactors factors;
        private final NDArray magnitude;
        private NDArray scale;

        RowScaledUpdate(LoraFactors factors, NDArray magnitude) {
            this.factors = factors;
            this.magnitude = magnitude;
        }

        @Override
        public NDArray apply(NDArray weight) {
            if (scale != null) {
                scale.close();
            }
            try (NDScope scope = new NDScope()) {
                NDArray sum = factors.apply(weight);
                scale = magnitude.div(rowNorms(sum)).expandDims(1);
                NDArray merged = sum.mul(scale);
                NDScope.unregister(scale, merged); // the rest (sum, norms, quotient) is freed with the scope
                return merged;
            }
        }

        @Override
        public NDArray revert(NDArray merged) {
            if (scale == null) {
                throw new IllegalStateException("revert() needs the scale of an apply() call");
            }
            try (NDArray unscaled = merged.div(scale)) {
                return factors.revert(unscaled);
            }
        }

        @Override
        public void close() {
            factors.close();
            magnitude.close();
            if (scale != null) {
                scale.close();
            }
        }
    }
}
