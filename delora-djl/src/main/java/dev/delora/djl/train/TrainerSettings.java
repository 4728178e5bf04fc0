package dev.delora.djl.train;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Settings of an {@link AdapterTrainer} run.
 *
 * <p>The learning rates and weight decay are used when the trainer builds the optimizer itself
 * ({@link AdapterTrainer#forAdapter}); a trainer given an optimizer ignores them.
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
 * @param learningRate the base learning rate (adapter and {@code modules_to_save}), &gt; 0
 * @param weightDecay decoupled weight decay of everything but biases and norms, ≥ 0
 * @param groupLearningRates learning rates of named parameter groups a method defines (e.g. DeLoRA's
 *     {@code delora_lambda}, SoRA's {@code sora_gate}); a name no method uses is rejected when training starts
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
        double selectionBaseline,
        double learningRate,
        double weightDecay,
        Map<String, Double> groupLearningRates) {

    /** Validates every field. */
    public TrainerSettings {
        if (epochs < 1) {
            throw new IllegalArgumentException("TrainerSettings epochs must be >= 1, got " + epochs);
        }
        if (maxSteps == 0 || maxSteps < -1) {
            throw new IllegalArgumentException(
                    "TrainerSettings maxSteps must be >= 1 or -1 (no limit), got " + maxSteps);
        }
        if (gradientAccumulation < 1) {
            throw new IllegalArgumentException(
                    "TrainerSettings gradientAccumulation must be >= 1, got " + gradientAccumulation);
        }
        if (!Double.isNaN(maxGradNorm) && !(maxGradNorm > 0)) {
            throw new IllegalArgumentException(
                    "TrainerSettings maxGradNorm must be > 0 or NaN (off), got " + maxGradNorm);
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
        if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
            throw new IllegalArgumentException(
                    "TrainerSettings learningRate must be finite and > 0, got " + learningRate);
        }
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException(
                    "TrainerSettings weightDecay must be finite and >= 0, got " + weightDecay);
        }
        groupLearningRates = Map.copyOf(groupLearningRates);
        groupLearningRates.forEach((group, lr) -> {
            if (!(lr >= 0) || Double.isInfinite(lr)) {
                throw new IllegalArgumentException(
                        "TrainerSettings learning rate of group '" + group + "' must be finite and >= 0, got " + lr);
            }
        });
    }

    /**
     * A builder with the DeLoRA GLUE defaults: 1 epoch, no step limit, no accumulation, no clipping, 6 % warmup,
     * metric {@code accuracy}, baseline −∞, learning rate 1e-3, weight decay 0.01 (torch's AdamW default).
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
        private double learningRate = 1e-3;
        private double weightDecay = 0.01;
        private final Map<String, Double> groupLearningRates = new LinkedHashMap<>();

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
         * @param v the base learning rate
         * @return this
         */
        public Builder learningRate(double v) {
            learningRate = v;
            return this;
        }

        /**
         * @param v decoupled weight decay (never on biases and norms)
         * @return this
         */
        public Builder weightDecay(double v) {
            weightDecay = v;
            return this;
        }

        /**
         * Sets the learning rate of a parameter group a method defines (e.g. {@code delora_lambda}).
         *
         * @param group the group name
         * @param lr its learning rate
         * @return this
         */
        public Builder groupLearningRate(String group, double lr) {
            groupLearningRates.put(group, lr);
            return this;
        }

        /**
         * Sets several group learning rates ({@link #groupLearningRate}).
         *
         * @param rates group name to learning rate
         * @return this
         */
        public Builder groupLearningRates(Map<String, Double> rates) {
            groupLearningRates.putAll(rates);
            return this;
        }

        /**
         * @return the validated config
         */
        public TrainerSettings build() {
            return new TrainerSettings(
                    epochs,
                    maxSteps,
                    gradientAccumulation,
                    maxGradNorm,
                    warmupRatio,
                    logEvery,
                    progress,
                    selectionMetric,
                    selectionBaseline,
                    learningRate,
                    weightDecay,
                    groupLearningRates);
        }
    }
}
