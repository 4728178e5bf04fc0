package dev.delora.djl.hf;

import java.util.Locale;

/**
 * How the encoder and decoder blocks compute {@code softmax(q·kᵀ·scale + mask)·v}, transformers'
 * {@code attn_implementation}.
 *
 * <p>{@link #SDPA} (the default) calls PyTorch's fused {@code scaled_dot_product_attention} through a bundled
 * TorchScript module ({@link AttentionKernels}): it never stores the {@code B × heads × T × S} probabilities for the
 * backward pass. {@link #EAGER} runs the same math as separate DJL operations. Both give the same outputs and
 * gradients within float32 rounding (tested to 1e-5); with attention dropout on, the two draw different dropout masks.
 * SDPA falls back to eager, with one warning in the log, when the arrays do not belong to the PyTorch engine or the
 * kernel cannot be loaded.
 *
 * <p>The choice is read at every forward pass from the system property {@value #PROPERTY} ({@code sdpa} or
 * {@code eager}), so {@code -Ddelora.attn_implementation=eager} switches a whole JVM.
 */
public enum AttentionImplementation {
    /** Separate matmul, mask add, softmax, dropout and matmul operations. */
    EAGER,
    /** PyTorch's fused {@code scaled_dot_product_attention}. */
    SDPA;

    /** The system property that selects the implementation: {@code sdpa} (default) or {@code eager}. */
    public static final String PROPERTY = "delora.attn_implementation";

    /**
     * The implementation selected now by {@value #PROPERTY}.
     *
     * @return {@link #SDPA} when the property is unset
     * @throws IllegalArgumentException when the property holds another value than {@code sdpa} or {@code eager}
     */
    public static AttentionImplementation selected() {
        String value = System.getProperty(PROPERTY);
        return value == null ? SDPA : parse(value);
    }

    /**
     * Parses transformers' name of an implementation.
     *
     * @param name {@code sdpa} or {@code eager}, any case
     * @return the implementation
     * @throws IllegalArgumentException naming the property and the accepted values otherwise
     */
    public static AttentionImplementation parse(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        if ("sdpa".equals(n)) {
            return SDPA;
        }
        if ("eager".equals(n)) {
            return EAGER;
        }
        throw new IllegalArgumentException(PROPERTY + ": expected sdpa or eager, found '" + name + "'");
    }

    /**
     * transformers' name of this implementation.
     *
     * @return {@code sdpa} or {@code eager}
     */
    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
