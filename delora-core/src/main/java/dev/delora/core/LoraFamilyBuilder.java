package dev.delora.core;

/**
 * The options LoRA, LoRA-XS and SoRA share on top of the targeting ones: α ({@code lora_alpha}) and the adapter-input
 * dropout ({@code lora_dropout}). Their defaults differ by method, so each builder passes its own α.
 *
 * @param <B> the concrete builder type
 */
public abstract class LoraFamilyBuilder<B extends LoraFamilyBuilder<B>> extends AdapterConfigBuilder<B> {

    /** The scaling numerator α. */
    protected float loraAlpha;
    /** The adapter-input dropout probability (default 0). */
    protected float loraDropout;

    /**
     * Creates a builder.
     *
     * @param defaultAlpha the method's default α
     */
    protected LoraFamilyBuilder(float defaultAlpha) {
        this.loraAlpha = defaultAlpha;
    }

    /**
     * Sets α.
     *
     * @param alpha the scaling numerator
     * @return this builder
     */
    public B loraAlpha(float alpha) {
        this.loraAlpha = alpha;
        return self();
    }

    /**
     * Sets the adapter-input dropout.
     *
     * @param p the drop probability
     * @return this builder
     */
    public B loraDropout(float p) {
        this.loraDropout = p;
        return self();
    }
}
