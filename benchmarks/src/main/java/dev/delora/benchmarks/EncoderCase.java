package dev.delora.benchmarks;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.loss.Loss;
import dev.delora.core.method.TrainingExtension;
import dev.delora.djl.hf.HfConfig;
import dev.delora.djl.hf.HfModels;
import dev.delora.djl.hf.HfSequenceClassifier;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.djl.train.GroupedAdamW;
import dev.delora.djl.train.MethodTraining;
import dev.delora.djl.train.ParameterGroups;
import dev.delora.djl.train.TrainerSettings;
import dev.delora.djl.tree.BlockTree;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Section 2 and 3: a RoBERTa-base-shaped sequence classifier with random weights (transformers' init), adapters on
 * {@code query} and {@code value}, the head trained in full, and the training step a user writes with delora4j:
 * forward, cross-entropy plus the method's loss term, backward, AdamW over the parameter groups and whatever the
 * method trains with its own optimizer, all from the adapter config ({@link MethodTraining}), as
 * {@code AdapterTrainer} does per step.
 *
 * <p>The {@link MethodSpec#BASE} case freezes the encoder but trains the head and the embedding LayerNorm, so its
 * backward runs through every layer as an adapter's does: the difference between an adapter's step and the base step
 * is what the adapter costs.
 */
public final class EncoderCase implements AutoCloseable {

    /** The head PEFT keeps trainable for sequence classification ({@code modules_to_save}). */
    static final String HEAD = "classifier";
    /** Trained in the base case so that the backward pass reaches the bottom layer. */
    static final String EMBEDDING_NORM = "roberta.embeddings.LayerNorm";
    /** The adapted modules, as on the PEFT side. */
    static final List<String> TARGETS = List.of("query", "value");
    /** Learning rate of the adapters and the head (and of a method's groups unless its spec sets another). */
    static final double LEARNING_RATE = 1e-4;

    private final NDManager manager;
    private final HfSequenceClassifier block;
    private final AdaptedModel peft;
    private final GroupedAdamW optimizer;
    private final TrainingExtension extension;
    private final List<Parameter> notInOptimizer;
    private final NDList inputs;
    private final NDArray labels;
    private final Loss loss = Loss.softmaxCrossEntropyLoss();
    private int steps;

    private EncoderCase(
            NDManager manager,
            HfSequenceClassifier block,
            AdaptedModel peft,
            GroupedAdamW optimizer,
            TrainingExtension extension,
            NDList inputs,
            NDArray labels) {
        this.manager = manager;
        this.block = block;
        this.peft = peft;
        this.optimizer = optimizer;
        this.extension = extension;
        this.inputs = inputs;
        this.labels = labels;
        Set<Parameter> inOptimizer = Collections.newSetFromMap(new IdentityHashMap<>());
        inOptimizer.addAll(optimizer.parameters());
        List<Parameter> rest = new ArrayList<>();
        for (Parameter p : block.getParameters().values()) {
            if (p.requiresGradient() && !inOptimizer.contains(p)) {
                rest.add(p);
            }
        }
        this.notInOptimizer = List.copyOf(rest);
    }

    /**
     * RoBERTa-base's shape ({@code FacebookAI/roberta-base}'s config.json) with a given depth.
     *
     * @param layers encoder layers (12 for RoBERTa-base)
     * @return the configuration, two labels
     */
    public static HfConfig robertaBase(int layers) {
        return new HfConfig(
                "roberta", 50265, 768, layers, 12, 3072, "gelu", 0.1f, 0.1f, 514, 1, 0.02f, 1e-5f, 1, null, 2, null);
    }

    /**
     * Builds a case: model, adapter, optimizer and one fixed random batch.
     *
     * @param method the adapter or the base
     * @param layers encoder depth
     * @param r rank
     * @param batch batch size
     * @param seq sequence length
     * @return the case
     */
    public static EncoderCase create(MethodSpec method, int layers, int r, int batch, int seq) {
        Engine.getInstance().setRandomSeed(42);
        NDManager manager = NDManager.newBaseManager();
        HfConfig cfg = robertaBase(layers);
        HfSequenceClassifier block = new HfSequenceClassifier(cfg);
        HfModels.initialize(block, cfg, manager);
        AdaptedModel peft = null;
        GroupedAdamW optimizer;
        TrainingExtension extension;
        if (method.isBase()) {
            block.freezeParameters(true);
            Map<String, Parameter> trainable = new LinkedHashMap<>();
            BlockTree.parameters(block).forEach((name, p) -> {
                if (name.startsWith(HEAD + ".") || name.startsWith(EMBEDDING_NORM + ".")) {
                    p.freeze(false);
                    trainable.put(name, p);
                }
            });
            optimizer = GroupedAdamW.create(
                    trainable,
                    ParameterGroups.standard(ParameterGroups.DEFAULT_WEIGHT_DECAY)
                            .build(),
                    LEARNING_RATE);
            extension = TrainingExtension.NONE;
        } else {
            peft = AdaptedModel.inject(block, method.config(r, TARGETS, List.of(HEAD)));
            MethodTraining training = MethodTraining.of(
                    peft,
                    TrainerSettings.builder()
                            .learningRate(LEARNING_RATE)
                            .weightDecay(ParameterGroups.DEFAULT_WEIGHT_DECAY)
                            .groupLearningRates(method.groupLearningRates())
                            .build());
            optimizer = training.optimizer();
            extension = training.extension();
        }
        // random ids that avoid the special tokens 0..3; no padding, like the torch side
        NDArray ids = manager.randomInteger(4, cfg.vocabSize(), new Shape(batch, seq), DataType.INT64);
        NDArray mask = manager.ones(new Shape(batch, seq), DataType.INT64);
        NDArray labels = manager.randomInteger(0, 2, new Shape(batch), DataType.INT64);
        return new EncoderCase(manager, block, peft, optimizer, extension, new NDList(ids, mask), labels);
    }

    /**
     * Returns the adapted model, or null for the base.
     *
     * @return the handle
     */
    public AdaptedModel peft() {
        return peft;
    }

    /**
     * Returns the number of trainable parameters (adapters and head).
     *
     * @return the count
     */
    public long trainableParameters() {
        return BlockTree.parameters(block).values().stream()
                .filter(Parameter::requiresGradient)
                .mapToLong(p -> p.getArray().size())
                .sum();
    }

    /**
     * One training step as {@code AdapterTrainer} takes it: forward (dropout on), loss plus the method's term,
     * backward, the optimizer's step, the method's after-step (its own optimizer), and zeroed gradients of the
     * trainable parameters the optimizer does not hold. The learning-rate factor is 1 (no schedule).
     *
     * @return the loss
     */
    public float trainStep() {
        float value;
        try (NDManager step = manager.newSubManager()) {
            lendInputs(step);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDList out = block.forward(new ParameterStore(step, false), inputs, true);
                NDArray l = loss.evaluate(new NDList(labels), out);
                NDArray methodTerm = extension.extraLoss(step);
                if (methodTerm != null) {
                    l = l.add(methodTerm);
                }
                value = l.getFloat();
                gc.backward(l);
            }
            optimizer.step(1.0);
            extension.afterStep(steps++, 1.0);
            zeroGradients(notInOptimizer);
        }
        return value;
    }

    /**
     * Zeroes gradients the optimizer does not hold (as {@code AdapterTrainer} does, in a manager of its own: the
     * arrays may already be lent to the step's manager, and lending an array twice to one manager frees it).
     */
    private static void zeroGradients(List<Parameter> parameters) {
        if (parameters.isEmpty()) {
            return;
        }
        try (NDManager tmp = NDManager.newBaseManager()) {
            for (Parameter p : parameters) {
                p.getArray().tempAttach(tmp);
                p.getArray().getGradient().muli(0f);
            }
        }
    }

    /** One inference forward (no gradient recording, dropout off); the logits are read back to the host. */
    public void inferStep() {
        try (NDManager step = manager.newSubManager()) {
            lendInputs(step);
            block.forward(new ParameterStore(step, false), inputs, false).head().toFloatArray();
        }
    }

    /**
     * Lends the batch to the step's manager until it closes. Op results join their first operand's manager, so
     * without this every activation computed from the inputs would pile up in the long-lived manager (about 1 GiB
     * per RoBERTa-base forward at batch 8): the same rule that makes AdapterTrainer create each batch per step.
     */
    private void lendInputs(NDManager step) {
        for (NDArray a : inputs) {
            a.tempAttach(step);
        }
        labels.tempAttach(step);
    }

    @Override
    public void close() {
        try {
            extension.close();
        } finally {
            optimizer.close();
            manager.close();
        }
    }
}
