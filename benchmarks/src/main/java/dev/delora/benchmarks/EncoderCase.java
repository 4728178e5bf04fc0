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
import dev.delora.core.sora.SoraAdapter;
import dev.delora.core.sora.SoraThreshold;
import dev.delora.djl.hf.HfConfig;
import dev.delora.djl.hf.HfModels;
import dev.delora.djl.hf.HfSequenceClassifier;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.djl.tree.BlockTree;
import dev.delora.djl.train.GroupedAdamW;
import dev.delora.djl.train.ParameterGroups;
import dev.delora.djl.train.SparseAdamW;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Section 2 and 3: a RoBERTa-base-shaped sequence classifier with random weights (transformers' init), adapters on
 * {@code query} and {@code value}, the head trained in full, and the training step a user writes with delora4j:
 * forward, cross-entropy, backward, {@link AdamW} (plus, for SoRA, η·mean|g| and {@link SparseAdamW} on the gates).
 *
 * <p>The {@link Method#BASE} case freezes the encoder but trains the head and the embedding LayerNorm, so its
 * backward runs through every layer as an adapter's does: the difference between an adapter's step and the base step
 * is what the adapter costs.
 */
public final class EncoderCase implements AutoCloseable {

    /** The head PEFT keeps trainable for sequence classification ({@code modules_to_save}). */
    static final String HEAD = "classifier";
    /** Trained in the base case so that the backward pass reaches the bottom layer. */
    static final String EMBEDDING_NORM = "roberta.embeddings.LayerNorm";

    private final NDManager manager;
    private final HfSequenceClassifier block;
    private final AdaptedModel peft;
    private final GroupedAdamW optimizer;
    private final SparseAdamW gateOptimizer;
    private final List<NDArray> gates;
    private final NDList inputs;
    private final NDArray labels;
    private final Loss loss = Loss.softmaxCrossEntropyLoss();

    private EncoderCase(NDManager manager, HfSequenceClassifier block, AdaptedModel peft, GroupedAdamW optimizer,
            SparseAdamW gateOptimizer, List<NDArray> gates, NDList inputs, NDArray labels) {
        this.manager = manager;
        this.block = block;
        this.peft = peft;
        this.optimizer = optimizer;
        this.gateOptimizer = gateOptimizer;
        this.gates = gates;
        this.inputs = inputs;
        this.labels = labels;
    }

    /**
     * RoBERTa-base's shape ({@code FacebookAI/roberta-base}'s config.json) with a given depth.
     *
     * @param layers encoder layers (12 for RoBERTa-base)
     * @return the configuration, two labels
     */
    public static HfConfig robertaBase(int layers) {
        return new HfConfig("roberta", 50265, 768, layers, 12, 3072, "gelu", 0.1f, 0.1f, 514, 1, 0.02f, 1e-5f, 1,
                null, 2, null);
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
    public static EncoderCase create(Method method, int layers, int r, int batch, int seq) {
        Engine.getInstance().setRandomSeed(42);
        NDManager manager = NDManager.newBaseManager();
        HfConfig cfg = robertaBase(layers);
        HfSequenceClassifier block = new HfSequenceClassifier(cfg);
        HfModels.initialize(block, cfg, manager);
        AdaptedModel peft = null;
        if (method == Method.BASE) {
            block.freezeParameters(true);
            BlockTree.parameters(block).forEach((name, p) -> {
                if (name.startsWith(HEAD + ".") || name.startsWith(EMBEDDING_NORM + ".")) {
                    p.freeze(false);
                }
            });
        } else {
            peft = AdaptedModel.inject(block, method.config(r, new String[] {HEAD}, "query", "value"));
        }
        Map<String, Parameter> trainable = new LinkedHashMap<>();
        Map<String, Parameter> gateParams = new LinkedHashMap<>();
        BlockTree.parameters(block).forEach((name, p) -> {
            if (p.requiresGradient()) {
                (name.contains(SoraAdapter.GATE) ? gateParams : trainable).put(name, p);
            }
        });
        ParameterGroups groups = (method == Method.DELORA || method == Method.DELORA_PAPER
                ? ParameterGroups.delora(3e-3) : ParameterGroups.standard(ParameterGroups.DEFAULT_WEIGHT_DECAY))
                .build();
        GroupedAdamW optimizer = GroupedAdamW.create(trainable, groups, 1e-4);
        SparseAdamW gateOptimizer = gateParams.isEmpty() ? null
                : new SparseAdamW(gateParams.values(), 1e-4, 1e-4, SparseAdamW.referenceConfig(),
                        SoraThreshold.REFERENCE);
        List<NDArray> gates = gateParams.values().stream().map(Parameter::getArray).toList();
        // random ids that avoid the special tokens 0..3; no padding, like the torch side
        NDArray ids = manager.randomInteger(4, cfg.vocabSize(), new Shape(batch, seq), DataType.INT64);
        NDArray mask = manager.ones(new Shape(batch, seq), DataType.INT64);
        NDArray labels = manager.randomInteger(0, 2, new Shape(batch), DataType.INT64);
        return new EncoderCase(manager, block, peft, optimizer, gateOptimizer, gates, new NDList(ids, mask), labels);
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
        return BlockTree.parameters(block).values().stream().filter(Parameter::requiresGradient)
                .mapToLong(p -> p.getArray().size()).sum();
    }

    /**
     * One training step: forward (dropout on), loss, backward, optimizer.
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
                if (gateOptimizer != null) {
                    l = l.add(SparseAdamW.l1Penalty(gates, 10, step));
                }
                value = l.getFloat();
                gc.backward(l);
            }
            optimizer.step(1.0);
            if (gateOptimizer != null) {
                gateOptimizer.step(1.0);
            }
        }
        return value;
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
        optimizer.close();
        if (gateOptimizer != null) {
            gateOptimizer.close();
        }
        manager.close();
    }
}
