package dev.delora.core.loraxs;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.core.LoraFamilyBuilder;
import dev.delora.core.linalg.RandomizedSvd;
import dev.delora.core.target.Patterns;
import dev.delora.core.target.TargetSelector;
import dev.delora.core.target.TargetSpec;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * LoRA-XS (Bałazy et al., 2024): frozen factors from the truncated SVD of W, {@code B = U_r}, {@code A = Σ_r V_rᵀ}, and
 * a trainable r×r matrix R between them: {@code ΔW = (α/r)·B·R·A}. Only r² scalars train per module. W is not changed.
 * Defaults follow the reference {@code main_glue.py} ({@code lora_alpha=16}, R ~ N(0, 1e-5)) and its SVD call
 * ({@code TruncatedSVD(n_iter=10, random_state=42)}).
 *
 * @param r the rank ({@code r}, default 8)
 * @param loraAlpha the scaling numerator α (default 16)
 * @param loraDropout dropout on the adapter input
 * @param initStd the standard deviation of R's normal init (default 1e-5)
 * @param svd the randomised SVD settings; its rank is replaced by each module's r
 * @param targets which modules to adapt
 * @param rankPattern per-module ranks by regex
 * @param alphaPattern per-module α by regex
 */
public record LoraXsConfig(
        int r,
        float loraAlpha,
        float loraDropout,
        float initStd,
        RandomizedSvd.Options svd,
        TargetSpec targets,
        Map<String, Integer> rankPattern,
        Map<String, Float> alphaPattern)
        implements AdapterConfig {

    /** Validates every field. */
    public LoraXsConfig {
        if (r <= 0) {
            throw new IllegalArgumentException("LoRA-XS r must be > 0, got " + r);
        }
        if (!(loraDropout >= 0 && loraDropout < 1)) {
            throw new IllegalArgumentException("lora_dropout must be in [0, 1), got " + loraDropout);
        }
        if (!(initStd >= 0) || !Float.isFinite(loraAlpha)) {
            throw new IllegalArgumentException(
                    "init std must be >= 0 and lora_alpha finite, got " + initStd + ", " + loraAlpha);
        }
        Objects.requireNonNull(svd, "svd");
        Objects.requireNonNull(targets, "targets");
        rankPattern = Patterns.ranks(rankPattern);
        alphaPattern = Patterns.ordered(alphaPattern);
    }

    /**
     * Starts a builder with the reference defaults.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String peftType() {
        return "LORAXS";
    }

    @Override
    public LoraXsConfig withTargets(TargetSpec newTargets) {
        return new LoraXsConfig(r, loraAlpha, loraDropout, initStd, svd, newTargets, rankPattern, alphaPattern);
    }

    @Override
    public float adapterDropout() {
        return loraDropout;
    }

    /**
     * Returns the scaling α/r for a module after the patterns.
     *
     * @param modulePath the dotted module path
     * @return the scaling
     */
    public float scalingFor(String modulePath) {
        return TargetSelector.resolve(alphaPattern, modulePath, loraAlpha) / rankFor(modulePath);
    }

    @Override
    public LinearAdapter create(String modulePath, NDArray weight, NDManager manager) {
        int rank = rankFor(modulePath);
        RandomizedSvd.Options options = new RandomizedSvd.Options(
                rank, svd.oversamples(), svd.powerIterations(), svd.seed(), svd.preferFloat64());
        return LoraXsAdapter.initialise(weight, options, initStd, scalingFor(modulePath), loraDropout, manager);
    }

    /** Builder for {@link LoraXsConfig}. */
    public static final class Builder extends LoraFamilyBuilder<Builder> {
        private float initStd = 1e-5f;
        private RandomizedSvd.Options svd = RandomizedSvd.Options.of(1);
        private final Map<String, Float> alphaPattern = new LinkedHashMap<>();

        private Builder() {
            super(16);
        }

        @Override
        protected Builder self() {
            return this;
        }

        /**
         * Sets the standard deviation of R's initialisation.
         *
         * @param std the standard deviation
         * @return this builder
         */
        public Builder initStd(float std) {
            this.initStd = std;
            return this;
        }

        /**
         * Sets the SVD settings (the rank field is ignored; each module uses its own r).
         *
         * @param options the settings
         * @return this builder
         */
        public Builder svd(RandomizedSvd.Options options) {
            this.svd = options;
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
        public LoraXsConfig build() {
            return new LoraXsConfig(r, loraAlpha, loraDropout, initStd, svd, targets(), rankPattern, alphaPattern);
        }
    }
}
