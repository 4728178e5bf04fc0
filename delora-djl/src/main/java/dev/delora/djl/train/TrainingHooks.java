package dev.delora.djl.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Map;

/** The callbacks an {@link AdapterTrainer} run accepts; each is usually given as a lambda. */
public final class TrainingHooks {

    private TrainingHooks() {}

    /** An extra differentiable loss term computed inside the collector, e.g. SoRA's {@code η·mean|g|}. */
    @FunctionalInterface
    public interface ExtraLoss {

        /**
         * Computes the term.
         *
         * @param stepManager the micro-batch's manager (attach results here)
         * @return a scalar added to the task loss
         */
        NDArray compute(NDManager stepManager);
    }

    /** Runs after each optimizer step, before gradients are zeroed, e.g. SoRA's gate optimizer. */
    @FunctionalInterface
    public interface StepHook {

        /**
         * Called once per optimizer step.
         *
         * @param step 0-based index of the step just taken
         * @param lrFactor the schedule factor that step used
         */
        void afterStep(int step, double lrFactor);
    }

    /** Evaluates the model after an epoch. */
    @FunctionalInterface
    public interface Evaluator {

        /**
         * Computes validation metrics.
         *
         * @param epoch 0-based epoch just finished
         * @return metric name to value; must contain the selection metric
         */
        Map<String, Double> evaluate(int epoch);
    }

    /** Called when an epoch becomes the best so far, e.g. to save a checkpoint or evaluate on test. */
    @FunctionalInterface
    public interface BestListener {

        /**
         * Called with the new best.
         *
         * @param epoch 0-based epoch
         * @param metrics its validation metrics
         */
        void onNewBest(int epoch, Map<String, Double> metrics);
    }
}
