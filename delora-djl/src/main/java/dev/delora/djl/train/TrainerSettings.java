package dev.delora.djl.train;

/**
 * Settings of an {@link AdapterTrainer} run.
 *
 * @param epochs passes over the data, ≥ 1
 * @param maxSteps stop after this many optimizer steps (also the schedule's total), or −1 for epochs × steps/epoch
 * @param gradientAccumulation micro-batches per optimizer step, ≥ 1; each micro loss is divided by it
 * @param maxGradNorm global-norm clip before each step, or NaN for none (the DeLoRA reference does not clip)
 * @param warmupRatio linear warmup as a fraction of the total steps, unrounded (reference: 0.06)
 * @param logEvery steps between plain progress lines when stderr is not a terminal, ≥ 1
 * @param progress whether to report progress on stderr at all
 * @param selectionMetric the evaluation metric that picks the best epoch (higher is better)
 * @param selectionBaseline the value a metric must strictly exceed to count as a first best (the reference uses 0)
 */
public record TrainerSettings(
        int epochs,
        int maxSteps,
        int gradientAccumulation,
        double maxGradNorm,
        double warmupRatio,
        int logEvery,
        boolean progress,
        String selectionMetric,
        double selectionBaseline) {

    /** Validates every field. */
    public TrainerSettings {
        if (epochs < 1) {
            throw new IllegalArgumentException("TrainerSettings epochs must be >= 1, got " + epochs);
        }
        if (maxSteps == 0 || maxSteps < -1) {
            throw new IllegalArgumentException("TrainerSettings maxSteps must be >= 1 or -1 (no limit), got " + maxSteps);
        }
        if (gradientAccumulation < 1) {
            throw new IllegalArgumentException("TrainerSettings gradientAccumulation must be >= 1, got "
                    + gradientAccumulation);
        }
        if (!Double.isNaN(maxGradNorm) && !(maxGradNorm > 0)) {
            throw new IllegalArgumentException("TrainerSettings maxGradNorm must be > 0 or NaN (off), got " + maxGradNorm);
        }
        if (!(warmupRatio >= 0 && warmupRatio <= 1)) {
            throw new IllegalArgumentException("TrainerSettings warmupRatio must be in [0, 1], got " + warmupRatio);
        }
        if (logEvery < 1) {
            throw new IllegalArgumentException("TrainerSettings logEvery must be >= 1, got " + logEvery);
        }
        if (selectionMetric == null || selectionMetric.isBlank()) {
            throw new IllegalArgumentException("TrainerSettings selectionMetric must name an evaluation metric");
        }
        if (Double.isNaN(selectionBaseline)) {
            throw new IllegalArgumentException("TrainerSettings selectionBaseline must not be NaN");
        }
    }

    /**
     * A builder with the DeLoRA GLUE defaults: 1 epoch, no step limit, no accumulation, no clipping, 6 % warmup,
     * metric {@code accuracy}, baseline −∞.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link TrainerSettings}. */
    public static final class Builder {
        private int epochs = 1;
        private int maxSteps = -1;
        private int gradientAccumulation = 1;
        private double maxGradNorm = Double.NaN;
        private double warmupRatio = 0.06;
        private int logEvery = 50;
        private boolean progress = true;
        private String selectionMetric = "accuracy";
        private double selectionBaseline = Double.NEGATIVE_INFINITY;

        private Builder() {}

        /**
         * @param v epochs
         * @return this
         */
        public Builder epochs(int v) {
            epochs = v;
            return this;
        }

        /**
         * @param v optimizer step limit, −1 for none
         * @return this
         */
        public Builder maxSteps(int v) {
            maxSteps = v;
            return this;
        }

        /**
         * @param v micro-batches per step
         * @return this
         */
        public Builder gradientAccumulation(int v) {
            gradientAccumulation = v;
            return this;
        }

        /**
         * @param v clip norm, NaN for none
         * @return this
         */
        public Builder maxGradNorm(double v) {
            maxGradNorm = v;
            return this;
        }

        /**
         * @param v warmup fraction
         * @return this
         */
        public Builder warmupRatio(double v) {
            warmupRatio = v;
            return this;
        }

        /**
         * @param v steps between plain log lines
         * @return this
         */
        public Builder logEvery(int v) {
            logEvery = v;
            return this;
        }

        /**
         * @param v whether to print progress
         * @return this
         */
        public Builder progress(boolean v) {
            progress = v;
            return this;
        }

        /**
         * @param v metric name returned by the evaluator
         * @return this
         */
        public Builder selectionMetric(String v) {
            selectionMetric = v;
            return this;
        }

        /**
         * @param v value a metric must exceed to become the first best
         * @return this
         */
        public Builder selectionBaseline(double v) {
            selectionBaseline = v;
            return this;
        }

        /**
         * @return the validated config
         */
        public TrainerSettings build() {
            return new TrainerSettings(epochs, maxSteps, gradientAccumulation, maxGradNorm, warmupRatio, logEvery,
                    progress, selectionMetric, selectionBaseline);
        }
    }
}
