package dev.delora.core.delora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.delora.core.AdapterConfig;
import dev.delora.core.AdapterConfigBuilder;
import dev.delora.core.LinearAdapter;
import dev.delora.core.target.Patterns;
import dev.delora.core.target.TargetSelector;
import dev.delora.core.target.TargetSpec;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * DeLoRA (Bini et al., 2025): a normalised low-rank update with a learnable bound λ and ‖W‖ column scaling,
 * {@code ΔW = (λ/r)·Σᵢ bᵢaᵢᵀ/(‖aᵢ‖‖bᵢ‖) · diag(‖W_{:,j}‖)}. Field names and defaults follow PEFT's
 * {@code DeloraConfig}.
 *
 * @param r the rank ({@code r}, default 8)
 * @param deloraLambda the initial λ ({@code delora_lambda}, default 15)
 * @param moduleDropout dropout on the adapter input ({@code module_dropout}, default 0)
 * @param init the initialisation; {@link DeloraInit#ZERO_B} is PEFT's {@code init_weights=true}
 * @param targets which modules to adapt
 * @param rankPattern per-module ranks by regex ({@code rank_pattern})
 * @param lambdaPattern per-module initial λ by regex ({@code lambda_pattern})
 */
public record DeloraConfig(
        int r,
        float deloraLambda,
        float moduleDropout,
        DeloraInit init,
        TargetSpec targets,
        Map<String, Integer> rankPattern,
        Map<String, Float> lambdaPattern)
        implements AdapterConfig {

    /** Validates every field. */
    public DeloraConfig {
        if (r <= 0) {
            throw new IllegalArgumentException("DeLoRA r must be > 0, got " + r);
        }
        if (!(moduleDropout >= 0 && moduleDropout < 1)) {
            throw new IllegalArgumentException("module_dropout must be in [0, 1), got " + moduleDropout);
        }
        if (!Float.isFinite(deloraLambda)) {
            throw new IllegalArgumentException("delora_lambda must be finite, got " + deloraLambda);
        }
        Objects.requireNonNull(init, "init");
        Objects.requireNonNull(targets, "targets");
        rankPattern = Patterns.ranks(rankPattern);
        lambdaPattern = Patterns.ordered(lambdaPattern);
    }

    /**
     * Starts a builder with PEFT's defaults.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns {@code DELORA}, or {@code DELORA_PAPER} for {@link DeloraInit#PAPER}: PEFT has no frozen-copy term and
     * must refuse such a file rather than load a different adapter.
     *
     * @return the PEFT type
     */
    @Override
    public String peftType() {
        return init == DeloraInit.PAPER ? DeloraMethod.PAPER_PEFT_TYPE : "DELORA";
    }

    @Override
    public DeloraConfig withTargets(TargetSpec newTargets) {
        return new DeloraConfig(r, deloraLambda, moduleDropout, init, newTargets, rankPattern, lambdaPattern);
    }

    @Override
    public float adapterDropout() {
        return moduleDropout;
    }

    /**
     * Returns the initial λ for a module after {@code lambda_pattern}.
     *
     * @param modulePath the dotted module path
     * @return λ₀
     */
    public float lambdaFor(String modulePath) {
        return TargetSelector.resolve(lambdaPattern, modulePath, deloraLambda);
    }

    @Override
    public LinearAdapter create(String modulePath, NDArray weight, NDManager manager) {
        return DeloraAdapter.initialise(this, modulePath, weight, manager);
    }

    /** Builder for {@link DeloraConfig}; unset fields take PEFT's defaults. */
    public static final class Builder extends AdapterConfigBuilder<Builder> {
        private float deloraLambda = 15;
        private float moduleDropout;
        private DeloraInit init = DeloraInit.ZERO_B;
        private final Map<String, Float> lambdaPattern = new LinkedHashMap<>();

        private Builder() {}

        @Override
        protected Builder self() {
            return this;
        }

        /**
         * Sets the initial λ.
         *
         * @param lambda λ₀
         * @return this builder
         */
        public Builder deloraLambda(float lambda) {
            this.deloraLambda = lambda;
            return this;
        }

        /**
         * Sets the adapter-input dropout.
         *
         * @param p the drop probability
         * @return this builder
         */
        public Builder moduleDropout(float p) {
            this.moduleDropout = p;
            return this;
        }

        /**
         * Sets the initialisation.
         *
         * @param init the initialisation
         * @return this builder
         */
        public Builder init(DeloraInit init) {
            this.init = init;
            return this;
        }

        /**
         * Overrides the initial λ of modules matching a key.
         *
         * @param key a regex matched against the end of the module path
         * @param lambda λ₀
         * @return this builder
         */
        public Builder lambdaPattern(String key, float lambda) {
            lambdaPattern.put(key, lambda);
            return this;
        }

        /**
         * Builds and validates the config.
         *
         * @return the config
         */
        public DeloraConfig build() {
            return new DeloraConfig(r, deloraLambda, moduleDropout, init, targets(), rankPattern, lambdaPattern);
        }
    }
}
