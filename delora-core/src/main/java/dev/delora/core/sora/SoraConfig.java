package dev.delora.core.sora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.core.LoraFamilyBuilder;
import dev.delora.core.target.Patterns;
import dev.delora.core.target.TargetSpec;
import java.util.Map;
import java.util.Objects;

/**
 * SoRA (Ding et al., 2023): a LoRA with a gate between A and B, {@code ΔW = (α/r)·B·diag(g)·A}, whose gates a
 * proximal optimizer drives to exact zeros; zero-gate ranks are then pruned into a smaller plain LoRA. Names follow the
 * reference code ({@code TsinghuaC3I/SoRA}); PEFT has no SoRA.
 *
 * @param r the maximum rank ({@code lora_r}, default 8)
 * @param loraAlpha the scaling numerator α ({@code lora_alpha}, default 16 as the reference config)
 * @param loraDropout dropout on the adapter input
 * @param sparseLambda weight η of the {@code mean|g|} loss term ({@code sparse_lambda})
 * @param sparseLambda2 the proximal threshold ξ of the gate optimizer ({@code sparse_lambda_2})
 * @param threshold how the threshold is applied
 * @param lambdaSchedule how ξ grows in the sparsifying rounds, or {@code null} for a fixed ξ
 * @param maxLambda the last ξ of the schedule ({@code max_lambda})
 * @param lambdaNum the number of ξ values in the schedule ({@code lambda_num})
 * @param targets which modules to adapt
 * @param rankPattern per-module maximum ranks by regex
 */
public record SoraConfig(
        int r,
        float loraAlpha,
        float loraDropout,
        float sparseLambda,
        float sparseLambda2,
        SoraThreshold threshold,
        SoraSchedule lambdaSchedule,
        float maxLambda,
        int lambdaNum,
        TargetSpec targets,
        Map<String, Integer> rankPattern)
        implements AdapterConfig {

    /** Validates every field. */
    public SoraConfig {
        if (r <= 0) {
            throw new IllegalArgumentException("SoRA r must be > 0, got " + r);
        }
        if (!(loraDropout >= 0 && loraDropout < 1)) {
            throw new IllegalArgumentException("lora_dropout must be in [0, 1), got " + loraDropout);
        }
        if (!(sparseLambda >= 0) || !(sparseLambda2 >= 0)) {
            throw new IllegalArgumentException(
                    "sparse_lambda and sparse_lambda_2 must be >= 0, got " + sparseLambda + " and " + sparseLambda2);
        }
        Objects.requireNonNull(threshold, "threshold");
        if (lambdaSchedule != null) {
            if (lambdaNum < 2) {
                throw new IllegalArgumentException("lambda_num must be >= 2 with a schedule, got " + lambdaNum);
            }
            if (!(maxLambda >= sparseLambda2)) {
                throw new IllegalArgumentException(
                        "max_lambda (" + maxLambda + ") must be >= sparse_lambda_2 (" + sparseLambda2 + ")");
            }
            if (lambdaSchedule == SoraSchedule.EXP_LINEAR && sparseLambda2 <= 0) {
                throw new IllegalArgumentException("exp_linear needs sparse_lambda_2 > 0 (it interpolates log ξ)");
            }
        }
        Objects.requireNonNull(targets, "targets");
        rankPattern = Patterns.ranks(rankPattern);
    }

    /**
     * Starts a builder with the reference's no-schedule defaults.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String peftType() {
        return "SORA";
    }

    @Override
    public SoraConfig withTargets(TargetSpec newTargets) {
        return new SoraConfig(
                r,
                loraAlpha,
                loraDropout,
                sparseLambda,
                sparseLambda2,
                threshold,
                lambdaSchedule,
                maxLambda,
                lambdaNum,
                newTargets,
                rankPattern);
    }

    @Override
    public float adapterDropout() {
        return loraDropout;
    }

    @Override
    public LinearAdapter create(String modulePath, NDArray weight, NDManager manager) {
        int rank = rankFor(modulePath);
        return SoraAdapter.initialise(rank, loraAlpha / rank, loraDropout, weight.getShape(), manager);
    }

    /** Builder for {@link SoraConfig}. */
    public static final class Builder extends LoraFamilyBuilder<Builder> {
        private float sparseLambda = 10;
        private float sparseLambda2 = 3e-4f;
        private SoraThreshold threshold = SoraThreshold.REFERENCE;
        private SoraSchedule schedule;
        private float maxLambda;
        private int lambdaNum;

        private Builder() {
            super(16);
        }

        @Override
        protected Builder self() {
            return this;
        }

        /**
         * Sets η, the weight of the {@code mean|g|} loss term.
         *
         * @param eta the weight
         * @return this builder
         */
        public Builder sparseLambda(float eta) {
            this.sparseLambda = eta;
            return this;
        }

        /**
         * Sets ξ, the gate optimizer's threshold.
         *
         * @param xi the threshold
         * @return this builder
         */
        public Builder sparseLambda2(float xi) {
            this.sparseLambda2 = xi;
            return this;
        }

        /**
         * Chooses the reference's or the textbook threshold.
         *
         * @param threshold the variant
         * @return this builder
         */
        public Builder threshold(SoraThreshold threshold) {
            this.threshold = threshold;
            return this;
        }

        /**
         * Grows ξ from {@code sparse_lambda_2} to {@code maxLambda} in {@code lambdaNum} values.
         *
         * @param schedule the interpolation
         * @param maxLambda the last ξ
         * @param lambdaNum the number of values
         * @return this builder
         */
        public Builder lambdaSchedule(SoraSchedule schedule, float maxLambda, int lambdaNum) {
            this.schedule = schedule;
            this.maxLambda = maxLambda;
            this.lambdaNum = lambdaNum;
            return this;
        }

        /**
         * Builds and validates the config.
         *
         * @return the config
         */
        public SoraConfig build() {
            return new SoraConfig(
                    r,
                    loraAlpha,
                    loraDropout,
                    sparseLambda,
                    sparseLambda2,
                    threshold,
                    schedule,
                    maxLambda,
                    lambdaNum,
                    targets(),
                    rankPattern);
        }
    }
}
