package dev.delora.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import java.util.Map;
import java.util.function.Function;

/**
 * One adapter attached to one frozen {@code Linear} ({@code y = W x + b}, {@code W ∈ R^{out×in}}).
 *
 * <p>An adapter adds {@code ΔW x} to the base output. Its forward pass never builds the dense {@code out×in} ΔW; the
 * dense form exists for merging and is derived from the exact low-rank form {@link #toLora()}, so each method writes
 * its math in one place per path (decomposed forward, factor form).
 *
 * <p>A method whose update depends on the base weight (DoRA: {@code W' = m ⊙ (W + ΔW) / ‖W + ΔW‖} row-wise) has no
 * exact plain-LoRA form: it answers false to {@link #hasLoraForm()}, overrides the methods that take the weight
 * ({@link #forward(NDArray, FrozenLinear, Function, boolean)}, {@link #weightUpdate}, {@link #updateNorm},
 * {@link #updateShape}) and throws {@link UnsupportedOperationException} from {@link #toLora()}.
 */
public interface LinearAdapter extends AutoCloseable {

    /**
     * Returns the trainable parameters, keyed by their PEFT state-dict suffix without the adapter name
     * (e.g. {@code lora_A.weight}, {@code delora_lambda}).
     *
     * @return the trainable parameters, in a stable order
     */
    Map<String, Parameter> parameters();

    /**
     * Returns the non-trainable state that defines the adapter (e.g. DeLoRA's column norms {@code delora_w_norm}),
     * keyed like {@link #parameters()}. These arrays are never exposed to optimizers.
     *
     * @return the buffers, possibly empty
     */
    Map<String, NDArray> buffers();

    /**
     * Computes the adapter's contribution {@code ΔW x} for an input batch.
     *
     * @param x the input, {@code [..., in]}
     * @param values resolves a parameter to its array on the input's device (e.g. through a {@code ParameterStore})
     * @param training whether dropout is active
     * @return the contribution, {@code [..., out]}
     */
    NDArray forward(NDArray x, Function<Parameter, NDArray> values, boolean training);

    /**
     * Computes the module's output change given the frozen module's weight and output: what the module adds to
     * {@code W x + b}. Methods whose update is independent of {@code W} use {@link #forward(NDArray, Function,
     * boolean)}, which this default calls; modules always call this one.
     *
     * @param x the input, {@code [..., in]}, float32
     * @param base the frozen weight, bias and output on the input's device
     * @param values resolves a parameter to its array on the input's device
     * @param training whether dropout is active
     * @return the change, {@code [..., out]}
     */
    default NDArray forward(NDArray x, FrozenLinear base, Function<Parameter, NDArray> values, boolean training) {
        return forward(x, values, training);
    }

    /**
     * Tells whether the update is exactly {@code scaling · B A} whatever the base weight is, so that
     * {@link #toLora()} works and the adapter can be saved and converted as a plain LoRA.
     *
     * @return true for additive low-rank methods; false for weight-dependent ones (DoRA)
     */
    default boolean hasLoraForm() {
        return true;
    }

    /**
     * Returns the adapter as an exact plain LoRA ({@code ΔW = scaling · B A}) built from the current values.
     *
     * @return the factors, newly allocated on the parameters' manager
     * @throws UnsupportedOperationException if {@link #hasLoraForm()} is false
     */
    LoraFactors toLora();

    /**
     * Returns the dense update {@code ΔW}, {@code [out, in]}, from the current values.
     *
     * @return ΔW in float32
     * @throws UnsupportedOperationException if {@link #hasLoraForm()} is false (use {@link #weightUpdate})
     */
    default NDArray deltaWeight() {
        try (LoraFactors f = toLora()) {
            return f.dense();
        }
    }

    /**
     * Returns what merging this adapter into a weight does, from the current values; merging applies it and keeps it
     * to unmerge exactly.
     *
     * @param weight the weight it will be merged into, {@code [out, in]}, float32
     * @return the update (close it)
     */
    default WeightUpdate weightUpdate(NDArray weight) {
        return toLora();
    }

    /**
     * Computes {@code ‖W_eff − W‖_F}, how far merging this adapter would move a weight: for a plain LoRA form from
     * {@code k×k} Gram matrices of the factors ({@link LoraFactors#frobeniusNorm()}), without the dense update.
     *
     * @param weight the weight, {@code [out, in]}, float32
     * @return the Frobenius norm of the change
     */
    default double updateNorm(NDArray weight) {
        try (LoraFactors f = toLora()) {
            return f.frobeniusNorm();
        }
    }

    /**
     * Returns the shape of the weight this adapter fits, {@code [out, in]}.
     *
     * @return the shape
     */
    default Shape updateShape() {
        try (LoraFactors f = toLora()) {
            return new Shape(f.b().getShape().get(0), f.a().getShape().get(1));
        }
    }

    /**
     * Returns the rank of the adapter as configured for this module.
     *
     * @return the rank
     */
    int rank();

    /**
     * Returns the name under which a module registers one of an adapter's parameters, PEFT's module-dict layout:
     * {@code lora_A.weight} of adapter {@code default} is {@code lora_A.default.weight}, {@code delora_lambda} is
     * {@code delora_lambda.default}.
     *
     * @param key the parameter's key in {@link #parameters()}
     * @param adapterName the adapter's name
     * @return the name within the module
     */
    static String qualifiedName(String key, String adapterName) {
        return key.endsWith(".weight")
                ? key.substring(0, key.length() - ".weight".length()) + "." + adapterName + ".weight"
                : key + "." + adapterName;
    }

    /** Frees the adapter's arrays (parameters and buffers); the adapter cannot be used afterwards. */
    @Override
    default void close() {
        parameters().values().forEach(Parameter::close);
        buffers().values().forEach(NDArray::close);
    }
}
