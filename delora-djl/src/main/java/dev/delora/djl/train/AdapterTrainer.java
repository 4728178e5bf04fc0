package dev.delora.djl.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import dev.delora.core.array.ArrayOps;
import dev.delora.core.array.GradMode;
import dev.delora.core.method.TrainingExtension;
import dev.delora.djl.peft.AdaptedModel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A training loop for adapter fine-tuning that users call from their own code (not DJL's {@code Trainer}).
 *
 * <p>Each micro-batch runs in its own {@link NDManager} sub-manager: the {@link BatchFactory} creates the batch's
 * arrays there, and the forward pass, loss and backward intermediates die with it, so native memory stays flat
 * across steps. Gradients accumulate over {@code gradientAccumulation} micro-batches (each loss divided by that
 * count), are optionally clipped by global norm over every trainable parameter of the block, then the optimizer
 * steps at the {@link LinearWarmupDecay} factor, the after-step hook runs (SoRA's gate optimizer), and all gradients
 * are zeroed. After every epoch the evaluator runs and the best epoch (strictly greater selection metric) is kept.
 *
 * <p>Blocks must not leak per-step arrays into long-lived managers: an op whose first operand is a parameter array
 * allocates its result in the parameter's manager, so adapter code should move such temporaries to the input's
 * manager.
 *
 * @param <S> the host-side description of a batch (indices, token ids, …) turned into arrays per step
 */
public final class AdapterTrainer<S> implements AutoCloseable {

    /**
     * The arrays of one micro-batch.
     *
     * @param inputs model inputs
     * @param labels targets handed to the loss
     * @param size number of examples (for throughput)
     */
    public record Batch(NDList inputs, NDArray labels, int size) {

        /** Validates presence and size. */
        public Batch {
            Objects.requireNonNull(inputs, "inputs");
            Objects.requireNonNull(labels, "labels");
            if (size < 1) {
                throw new IllegalArgumentException("Batch size must be >= 1, got " + size);
            }
        }
    }

    /**
     * Turns a batch description into arrays inside the step's manager.
     *
     * @param <S> batch description type
     */
    @FunctionalInterface
    public interface BatchFactory<S> {

        /**
         * Creates the arrays of a batch.
         *
         * @param stepManager the micro-batch's manager; create every array here
         * @param spec the description
         * @return the batch
         */
        Batch create(NDManager stepManager, S spec);
    }

    /** The task loss. */
    @FunctionalInterface
    public interface LossFunction {

        /**
         * Computes the mean loss of a batch.
         *
         * @param outputs the block's outputs
         * @param labels the batch labels
         * @return a scalar
         */
        NDArray compute(NDList outputs, NDArray labels);
    }

    /**
     * Metrics of one epoch.
     *
     * @param epoch 0-based epoch
     * @param steps optimizer steps done by its end
     * @param meanLoss mean training loss of its micro-batches
     * @param metrics validation metrics (empty without an evaluator)
     */
    public record EpochResult(int epoch, int steps, double meanLoss, Map<String, Double> metrics) {}

    /**
     * Outcome of {@link #fit}.
     *
     * @param steps optimizer steps taken
     * @param bestEpoch the first epoch with the highest selection metric, −1 if none beat the baseline
     * @param bestMetrics that epoch's metrics (empty if none)
     * @param epochs per-epoch results
     * @param stepLosses mean loss of each optimizer step's micro-batches
     */
    public record Result(
            int steps,
            int bestEpoch,
            Map<String, Double> bestMetrics,
            List<EpochResult> epochs,
            List<Double> stepLosses) {}

    private final Block block;
    private final GroupedAdamW optimizer;
    private TrainingExtension extension = TrainingExtension.NONE;
    private boolean ownsOptimizer;
    private final LossFunction loss;
    private final TrainerSettings config;
    private TrainingHooks.ExtraLoss extraLoss;
    private TrainingHooks.StepHook afterStep;
    private TrainingHooks.Evaluator evaluator;
    private TrainingHooks.BestListener bestListener;
    private final List<Parameter> trainable = new ArrayList<>();
    private final List<Parameter> notInOptimizer = new ArrayList<>();

    /**
     * Creates a trainer.
     *
     * @param block the model (initialised; trainable parameters marked)
     * @param optimizer the optimizer over (a subset of) the block's trainable parameters
     * @param loss the task loss
     * @param config the run settings
     */
    public AdapterTrainer(Block block, GroupedAdamW optimizer, LossFunction loss, TrainerSettings config) {
        this.block = Objects.requireNonNull(block, "block");
        this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
        this.loss = Objects.requireNonNull(loss, "loss");
        this.config = Objects.requireNonNull(config, "config");
        Set<Parameter> owned = Collections.newSetFromMap(new IdentityHashMap<>());
        owned.addAll(optimizer.parameters());
        for (Parameter p : block.getParameters().values()) {
            if (p.requiresGradient()) {
                trainable.add(p);
                if (!owned.contains(p)) {
                    notInOptimizer.add(p);
                }
            }
        }
    }

    /**
     * Creates a trainer for the active adapter of a model with everything its method needs, read from its config
     * ({@link dev.delora.core.method.AdapterMethod#training}): an AdamW at {@code settings.learningRate()} with no
     * decay on biases and norms
     * and {@code settings.weightDecay()} elsewhere, the method's own parameter groups first (DeLoRA's λ at
     * {@code groupLearningRate("delora_lambda", …)}), its loss terms, own optimizers and continuation phases (SoRA's
     * gate L1 term, proximal gate optimizer and sparsifying rounds). Close the trainer to free the optimizers.
     *
     * @param <S> the batch description type
     * @param model the model, its active adapter the one to train
     * @param loss the task loss
     * @param settings the run settings
     * @return the trainer
     * @throws IllegalArgumentException if a group learning rate names a group the method does not define
     */
    public static <S> AdapterTrainer<S> forAdapter(AdaptedModel model, LossFunction loss, TrainerSettings settings) {
        MethodTraining setup = MethodTraining.of(model, settings);
        AdapterTrainer<S> trainer;
        try {
            trainer = new AdapterTrainer<>(model.block(), setup.optimizer(), loss, settings);
        } catch (RuntimeException e) {
            setup.close();
            throw e;
        }
        trainer.extension = setup.extension();
        trainer.ownsOptimizer = true;
        return trainer;
    }

    /**
     * Sets an extra loss term.
     *
     * @param term the term, or null
     * @return this
     */
    public AdapterTrainer<S> extraLoss(TrainingHooks.ExtraLoss term) {
        this.extraLoss = term;
        return this;
    }

    /**
     * Adds a hook run after every optimizer step; hooks run in the order they were added, after the method's own.
     *
     * @param hook the hook
     * @return this
     */
    public AdapterTrainer<S> afterStep(TrainingHooks.StepHook hook) {
        Objects.requireNonNull(hook, "hook");
        TrainingHooks.StepHook previous = afterStep;
        this.afterStep = previous == null
                ? hook
                : (step, factor) -> {
                    previous.afterStep(step, factor);
                    hook.afterStep(step, factor);
                };
        return this;
    }

    /**
     * Sets the per-epoch evaluator.
     *
     * @param eval the evaluator, or null
     * @return this
     */
    public AdapterTrainer<S> evaluator(TrainingHooks.Evaluator eval) {
        this.evaluator = eval;
        return this;
    }

    /**
     * Sets the new-best listener.
     *
     * @param listener the listener, or null
     * @return this
     */
    public AdapterTrainer<S> onNewBest(TrainingHooks.BestListener listener) {
        this.bestListener = listener;
        return this;
    }

    /**
     * Optimizer steps the run will take for a given epoch length.
     *
     * @param batchesPerEpoch micro-batches per epoch
     * @return the schedule's total
     */
    public int totalSteps(int batchesPerEpoch) {
        int perEpoch = (batchesPerEpoch + config.gradientAccumulation() - 1) / config.gradientAccumulation();
        long total = (long) perEpoch * config.epochs();
        if (config.maxSteps() > 0) {
            total = Math.min(total, config.maxSteps());
        }
        return Math.toIntExact(total);
    }

    /**
     * Trains on the same list of batch descriptions every epoch.
     *
     * @param batches the batch descriptions of one epoch
     * @param factory creates a batch's arrays
     * @return the run's outcome
     */
    public Result fit(List<S> batches, BatchFactory<S> factory) {
        return fit(epoch -> batches, batches.size(), factory);
    }

    /**
     * Trains, asking for each epoch's batch descriptions (e.g. a fresh shuffle per epoch). After the main epochs, the
     * method's continuation phases run ({@link TrainingExtension#continuationPhases()}), the schedule left at its end.
     *
     * @param epochData epoch index to that epoch's batch descriptions
     * @param batchesPerEpoch micro-batches per epoch (for the schedule's length)
     * @param factory creates a batch's arrays
     * @return the run's outcome
     */
    public Result fit(
            java.util.function.IntFunction<? extends Iterable<S>> epochData,
            int batchesPerEpoch,
            BatchFactory<S> factory) {
        if (batchesPerEpoch < 1) {
            throw new IllegalArgumentException("fit needs at least one batch per epoch, got " + batchesPerEpoch);
        }
        int total = totalSteps(batchesPerEpoch);
        List<TrainingExtension.Phase> phases = extension.continuationPhases();
        int phaseEpochs =
                phases.stream().mapToInt(TrainingExtension.Phase::epochs).sum();
        Run run = new Run(
                LinearWarmupDecay.ofRatio(config.warmupRatio(), total),
                new ProgressPrinter(
                        config.progress(),
                        config.logEvery(),
                        total + phaseEpochs * batchesPerEpoch / config.gradientAccumulation()));
        NDArray first = trainable.isEmpty() ? null : trainable.get(0).getArray();
        // outside the collector nothing may record a graph, whichever thread trains
        try (GradMode noGraphs = GradMode.off();
                NDManager root =
                        first == null ? NDManager.newBaseManager() : NDManager.newBaseManager(first.getDevice())) {
            root.setName("AdapterTrainer");
            ParameterStore store = new ParameterStore(root, false);
            int epoch = 0;
            for (; epoch < config.epochs() && run.step < total; epoch++) {
                runEpoch(run, epoch, epochData.apply(epoch).iterator(), total, factory, root, store);
            }
            for (TrainingExtension.Phase phase : phases) {
                phase.onStart().run();
                run.progress.line("phase " + phase.name() + ": " + phase.epochs() + " epochs");
                for (int e = 0; e < phase.epochs(); e++, epoch++) {
                    runEpoch(run, epoch, epochData.apply(epoch).iterator(), Integer.MAX_VALUE, factory, root, store);
                }
            }
        }
        return new Result(
                run.step, run.bestEpoch, run.bestMetrics, List.copyOf(run.epochs), List.copyOf(run.stepLosses));
    }

    /** The state of one {@link #fit} call. */
    private final class Run {
        final LrSchedule schedule;
        final ProgressPrinter progress;
        final List<EpochResult> epochs = new ArrayList<>();
        final List<Double> stepLosses = new ArrayList<>();
        int step;
        int bestEpoch = -1;
        double best = config.selectionBaseline();
        Map<String, Double> bestMetrics = Map.of();

        Run(LrSchedule schedule, ProgressPrinter progress) {
            this.schedule = schedule;
            this.progress = progress;
        }
    }

    private void runEpoch(
            Run run,
            int epoch,
            java.util.Iterator<S> it,
            int stepLimit,
            BatchFactory<S> factory,
            NDManager root,
            ParameterStore store) {
        int accum = config.gradientAccumulation();
        double epochLoss = 0;
        int epochMicro = 0;
        int micro = 0;
        double pendingLoss = 0;
        int pendingSamples = 0;
        while (it.hasNext() && run.step < stepLimit) {
            S spec = it.next();
            double value;
            int size;
            try (NDManager sub = root.newSubManager()) {
                Batch batch = factory.create(sub, spec);
                size = batch.size();
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDList out = block.forward(store, batch.inputs(), true);
                    NDArray l = loss.compute(out, batch.labels());
                    NDArray methodTerm = extension.extraLoss(sub);
                    if (methodTerm != null) {
                        l = l.add(methodTerm);
                    }
                    if (extraLoss != null) {
                        l = l.add(extraLoss.compute(sub));
                    }
                    value = l.getFloat();
                    if (!Double.isFinite(value)) {
                        // stop before backward: the weights still hold the last finite step's values
                        throw new IllegalStateException(String.format(
                                Locale.ROOT,
                                "Training loss is %s at epoch %d, optimizer step %d: training diverged "
                                        + "(the weights keep the last finite step). Lower the learning rate or "
                                        + "clip gradients (TrainerSettings maxGradNorm, e.g. 1.0)%s",
                                value,
                                epoch + 1,
                                run.step + 1,
                                Double.isNaN(config.maxGradNorm())
                                        ? ""
                                        : "; clipping at " + config.maxGradNorm() + " is already on"));
                    }
                    gc.backward(accum == 1 ? l : ArrayOps.scaled(l, 1f / accum));
                }
            }
            micro++;
            epochMicro++;
            epochLoss += value;
            pendingLoss += value;
            pendingSamples += size;
            if (micro == accum || !it.hasNext()) {
                double factor = run.schedule.factor(run.step);
                if (!Double.isNaN(config.maxGradNorm())) {
                    GradientClipping.clipGradNorm(trainable, config.maxGradNorm());
                }
                optimizer.step(factor);
                extension.afterStep(run.step, factor);
                if (afterStep != null) {
                    afterStep.afterStep(run.step, factor);
                }
                GroupedAdamW.zeroGradients(notInOptimizer);
                run.stepLosses.add(pendingLoss / micro);
                run.step++;
                run.progress.step(
                        run.step, epoch, epochLoss / epochMicro, optimizer.baseLearningRate(factor), pendingSamples);
                micro = 0;
                pendingLoss = 0;
                pendingSamples = 0;
            }
        }
        run.progress.endEpoch();
        // keep the evaluator's order: GLUE's first metric is the one people read first
        Map<String, Double> metrics = evaluator == null
                ? Map.of()
                : Collections.unmodifiableMap(new LinkedHashMap<>(evaluator.evaluate(epoch)));
        if (evaluator != null) {
            Double v = metrics.get(config.selectionMetric());
            if (v == null) {
                throw new IllegalStateException("Evaluator returned no '" + config.selectionMetric()
                        + "' (the selection metric); it returned " + metrics.keySet());
            }
            if (v > run.best) {
                run.best = v;
                run.bestEpoch = epoch;
                run.bestMetrics = metrics;
                if (bestListener != null) {
                    bestListener.onNewBest(epoch, metrics);
                }
            }
            // epochs are 0-based in the API and 1-based for people
            run.progress.line("epoch " + (epoch + 1) + " " + new LinkedHashMap<>(metrics)
                    + (run.bestEpoch == epoch ? " (best)" : ""));
        }
        run.epochs.add(
                new EpochResult(epoch, run.step, epochMicro == 0 ? Double.NaN : epochLoss / epochMicro, metrics));
    }

    /** Frees the optimizer and the method's extension when this trainer built them ({@link #forAdapter}). */
    @Override
    public void close() {
        if (ownsOptimizer) {
            try {
                extension.close();
            } finally {
                optimizer.close();
            }
        }
    }
}
