package dev.delora.core;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import java.util.Map;
import java.util.function.Function;

/**
 * One adapter attached to one frozen {@code Linear} ({@code y = W x + b}, {@code W ∈ R^{out×in}}).
 *
 * <p>An adapter adds {@code ΔW x} to the base output. Its forward pass never builds the dense {@code out×in} ΔW; the
 * dense form exists for merging and is derived from the exact low-rank form {@link #toLora()}, so each method writes
 * its math in one place per path (decomposed forward, factor form).
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
     * Returns the adapter as an exact plain LoRA ({@code ΔW = scaling · B A}) built from the current values.
     *
     * @return the factors, newly allocated on the parameters' manager
     */
    LoraFactors toLora();

    /**
     * Returns the dense update {@code ΔW}, {@code [out, in]}, from the current values.
     *
     * @return ΔW in float32
     */
    default NDArray deltaWeight() {
        try (LoraFactors f = toLora()) {
            return f.dense();
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
