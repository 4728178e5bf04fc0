package dev.delora.djl.hf;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.initializer.NormalInitializer;
import dev.delora.djl.io.SafetensorsCheckpoint;
import dev.delora.djl.io.TensorSource;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Builds BERT / RoBERTa models and loads Hugging Face weights into them.
 *
 * <pre>{@code
 * HfModels.Loaded<HfSequenceClassifier> m = HfModels.sequenceClassifier(folder, model.getNDManager(), 2);
 * model.setBlock(m.block());
 * }</pre>
 */
public final class HfModels {

    private HfModels() {}

    /**
     * A model with its configuration and what the weight load did.
     *
     * @param block the initialised block holding the weights
     * @param config the configuration it was built from
     * @param report missing / unexpected keys
     * @param <B> the block type
     */
    public record Loaded<B extends Block>(B block, HfConfig config, HfWeights.LoadReport report) {}

    /**
     * Loads a {@code *ForSequenceClassification} model from a Hugging Face folder ({@code config.json} +
     * {@code model.safetensors} or the sharded form). A checkpoint of a bare encoder gets a newly initialised head
     * (reported).
     *
     * @param folder the model folder
     * @param manager the manager that owns the parameters (e.g. {@code Model.getNDManager()})
     * @param numLabels the head width, or {@code null} to keep the config's
     * @return the model
     * @throws IOException if files are missing or invalid
     */
    public static Loaded<HfSequenceClassifier> sequenceClassifier(Path folder, NDManager manager, Integer numLabels)
            throws IOException {
        HfConfig saved = HfConfig.load(folder);
        HfConfig cfg = numLabels != null ? saved.withNumLabels(numLabels) : saved;
        HfSequenceClassifier block = new HfSequenceClassifier(cfg);
        // a new number of labels means a new head: its old tensors cannot fit and are re-initialised, as with
        // transformers' ignore_mismatched_sizes
        boolean newHead = cfg.numLabels() != saved.numLabels();
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(folder)) {
            initialize(block, cfg, manager);
            HfWeights.LoadReport report = HfWeights.load(
                    block,
                    modelName(cfg, true),
                    cfg.modelType(),
                    ckpt,
                    manager,
                    key -> newHead && block.headModules().stream().anyMatch(h -> key.startsWith(h + ".")));
            return new Loaded<>(block, cfg, report);
        }
    }

    /**
     * Loads a bare encoder ({@code BertModel} with pooler, {@code RobertaModel} with pooler) from a folder.
     *
     * @param folder the model folder
     * @param manager the manager that owns the parameters
     * @return the model
     * @throws IOException if files are missing or invalid
     */
    public static Loaded<HfEncoderModel> encoder(Path folder, NDManager manager) throws IOException {
        HfConfig cfg = HfConfig.load(folder);
        HfEncoderModel block = new HfEncoderModel(cfg, true);
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(folder)) {
            return new Loaded<>(block, cfg, initializeAndLoad(block, cfg, modelName(cfg, false), ckpt, manager));
        }
    }

    /**
     * Initialises a model as transformers does for new weights (normal(0, initializer_range) for weights and
     * embeddings, zero biases, LayerNorm 1/0) and then copies in the checkpoint.
     *
     * @param block the model
     * @param cfg its configuration
     * @param modelName the name used in the report
     * @param source the weights
     * @param manager the manager that owns the parameters
     * @return the load report
     * @throws IOException if reading fails
     */
    public static HfWeights.LoadReport initializeAndLoad(
            Block block, HfConfig cfg, String modelName, TensorSource source, NDManager manager) throws IOException {
        initialize(block, cfg, manager);
        return HfWeights.load(block, modelName, cfg.modelType(), source, manager);
    }

    /**
     * Initialises every parameter of a model with transformers' scheme for new weights.
     *
     * @param block the model
     * @param cfg its configuration
     * @param manager the manager that owns the parameters
     */
    public static void initialize(Block block, HfConfig cfg, NDManager manager) {
        block.setInitializer(new NormalInitializer(cfg.initializerRange()), Parameter.Type.WEIGHT);
        block.initialize(manager, DataType.FLOAT32, inputShapes());
    }

    /**
     * Returns the input shapes to initialise these models with ({@code input_ids}, {@code attention_mask},
     * {@code token_type_ids}; only the rank matters).
     *
     * @return three (1, 1) shapes
     */
    public static Shape[] inputShapes() {
        return new Shape[] {new Shape(1, 1), new Shape(1, 1), new Shape(1, 1)};
    }

    /**
     * Returns the transformers class name of a model, for messages.
     *
     * @param cfg the configuration
     * @param classification whether it is the sequence-classification model
     * @return e.g. {@code RobertaForSequenceClassification}
     */
    public static String modelName(HfConfig cfg, boolean classification) {
        String base = "roberta".equals(cfg.modelType()) ? "Roberta" : "Bert";
        return base + (classification ? "ForSequenceClassification" : "Model");
    }
}
