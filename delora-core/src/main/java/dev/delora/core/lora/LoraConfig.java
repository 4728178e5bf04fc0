package dev.delora.core.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.core.LoraFamilyBuilder;
import dev.delora.core.target.Patterns;
import dev.delora.core.target.TargetSelector;
import dev.delora.core.target.TargetSpec;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * LoRA: {@code ΔW = (α/r)·B·A} (or {@code α/√r} with rsLoRA), with PEFT's field names and defaults.
 *
 * @param r the rank ({@code r}, default 8)
 * @param loraAlpha the scaling numerator α ({@code lora_alpha}, default 8)
 * @param loraDropout dropout on the adapter input ({@code lora_dropout}, default 0)
 * @param useRslora scale by α/√r instead of α/r ({@code use_rslora})
 * @param initLoraWeights the initialisation ({@code init_lora_weights})
 * @param targets which modules to adapt
 * @param rankPattern per-module ranks by regex ({@code rank_pattern})
 * @param alphaPattern per-module α by regex ({@code alpha_pattern})
 */
public record LoraConfig(
        int r,
        float loraAlpha,
        float loraDropout,
        boolean useRslora,
        LoraInit initLoraWeights,
        TargetSpec targets,
        Map<String, Integer> rankPattern,
        Map<String, Float> alphaPattern)
        implements AdapterConfig {

    /** Validates every field; patterns keep their insertion order (the first matching key wins). */
    public LoraConfig {
        if (r <= 0) {
            throw new IllegalArgumentException("LoRA r must be > 0, got " + r);
        }
        if (!(loraDropout >= 0 && loraDropout < 1)) {
            throw new IllegalArgumentException("lora_dropout must be in [0, 1), got " + loraDropout);
        }
        if (!Float.isFinite(loraAlpha)) {
            throw new IllegalArgumentException("lora_alpha must be finite, got " + loraAlpha);
        }
        Objects.requireNonNull(initLoraWeights, "init_lora_weights");
        Objects.requireNonNull(targets, "targets");
        rankPattern = Patterns.ranks(rankPattern);
        alphaPattern = Patterns.ordered(alphaPattern);
    }

    /**
     * Starts a builder with PEFT's defaults.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String peftType() {
        return "LORA";
    }

    @Override
    public LoraConfig withTargets(TargetSpec newTargets) {
        return new LoraConfig(
                r, loraAlpha, loraDropout, useRslora, initLoraWeights, newTargets, rankPattern, alphaPattern);
    }

    @Override
    public float adapterDropout() {
        return loraDropout;
    }

    /**
     * Returns α for a module after {@code alpha_pattern}.
     *
     * @param modulePath the dotted module path
     * @return α
     */
    public float alphaFor(String modulePath) {
        return TargetSelector.resolve(alphaPattern, modulePath, loraAlpha);
    }

    /**
     * Returns the scaling applied to {@code B·A} for a module: α/r, or α/√r with rsLoRA.
     *
     * @param modulePath the dotted module path
     * @return the scaling
     */
    public float scalingFor(String modulePath) {
        int rank = rankFor(modulePath);
        return (float) (alphaFor(modulePath) / (useRslora ? Math.sqrt(rank) : rank));
    }

    @Override
    public LinearAdapter create(String modulePath, NDArray weight, NDManager manager) {
        return LoraAdapter.initialise(this, modulePath, weight.getShape(), manager);
    }

    /** Builder for {@link LoraConfig}; unset fields take PEFT's defaults. */
    public static final class Builder extends LoraFamilyBuilder<Builder> {
        private boolean useRslora;
        private LoraInit init = LoraInit.DEFAULT;
        private final Map<String, Float> alphaPattern = new LinkedHashMap<>();

        private Builder() {
            super(8);
        }

        @Override
        protected Builder self() {
            return this;
        }

        /**
         * Enables rank-stabilised scaling α/√r.
         *
         * @param use whether to use rsLoRA
         * @return this builder
         */
        public Builder useRslora(boolean use) {
            this.useRslora = use;
            return this;
        }

        /**
         * Sets the initialisation.
         *
         * @param init the initialisation
         * @return this builder
         */
        public Builder initLoraWeights(LoraInit init) {
            this.init = init;
            return this;
        }

        /**
         * Overrides α of modules matching a key.
         *
         * @param key a regex matched against the end of the module path
         * @param alpha α
         * @return this builder
         */
        public Builder alphaPattern(String key, float alpha) {
            alphaPattern.put(key, alpha);
            return this;
        }

        /**
         * Builds and validates the config.
         *
         * @return the config
         */
        public LoraConfig build() {
            return new LoraConfig(r, loraAlpha, loraDropout, useRslora, init, targets(), rankPattern, alphaPattern);
        }
    }
}
