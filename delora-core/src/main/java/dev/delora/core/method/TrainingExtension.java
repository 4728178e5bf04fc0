package dev.delora.core.method;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import java.util.List;
import java.util.Set;

/**
 * What one adapter method adds to a training run, built from its config by {@link AdapterMethod#training}: parameter
 * groups (DeLoRA's λ at its own learning rate), a loss term and an optimizer of its own for some parameters (SoRA's
 * gate L1 term and proximal gate optimizer), and continuation phases (SoRA's sparsifying rounds). A trainer calls it
 * in this order for each optimizer step: {@link #extraLoss} inside the gradient collector of every micro-batch, the
 * main optimizer's step over every trainable parameter not in {@link #ownedParameters()}, then {@link #afterStep}.
 */
public interface TrainingExtension extends AutoCloseable {

    /** The extension of methods that need nothing beyond a plain optimizer. */
    TrainingExtension NONE = new TrainingExtension() {};

    /**
     * Returns parameter-group rules that take priority over the caller's grouping (biases and norms without decay,
     * the rest with decay).
     *
     * @return the rules, highest priority first
     */
    default List<ParameterGroup> parameterGroups() {
        return List.of();
    }

    /**
     * Returns the parameters this extension updates itself; the main optimizer must leave them alone.
     *
     * @return the parameters, compared by identity
     */
    default Set<Parameter> ownedParameters() {
        return Set.of();
    }

    /**
     * Computes a differentiable term added to the task loss of every micro-batch (before division for gradient
     * accumulation), or returns {@code null} for none.
     *
     * @param stepManager the micro-batch's manager; temporaries must land there
     * @return a scalar, or {@code null}
     */
    default NDArray extraLoss(NDManager stepManager) {
        return null;
    }

    /**
     * Runs after the main optimizer's step, before gradients are zeroed (e.g. the step of an own optimizer).
     *
     * @param step the 0-based index of the step just taken
     * @param lrFactor the learning-rate schedule's factor at that step
     */
    default void afterStep(int step, double lrFactor) {}

    /**
     * Returns the phases that follow the main schedule, each a number of further epochs run with the learning-rate
     * schedule left at its end (SoRA's sparsifying rounds, as the reference reuses its spent schedulers).
     *
     * @return the phases, in order; empty for none
     */
    default List<Phase> continuationPhases() {
        return List.of();
    }

    /** Frees what the extension allocated (optimizer state). */
    @Override
    default void close() {}

    /**
     * One continuation phase.
     *
     * @param name a label for logs (e.g. {@code sparsify ξ=7.0e-04})
     * @param epochs further epochs, ≥ 1
     * @param onStart run before the phase's first step (e.g. raising SoRA's threshold)
     */
    record Phase(String name, int epochs, Runnable onStart) {

        /** Validates the phase. */
        public Phase {
            if (epochs < 1) {
                throw new IllegalArgumentException("Phase '" + name + "' needs >= 1 epoch, got " + epochs);
            }
        }
    }
}
