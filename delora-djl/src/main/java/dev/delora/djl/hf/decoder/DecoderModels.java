package dev.delora.djl.hf.decoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.initializer.NormalInitializer;
import dev.delora.djl.hf.HfWeights;
import dev.delora.djl.io.SafetensorsCheckpoint;
import dev.delora.djl.io.TensorSource;
import dev.delora.djl.tree.BlockTree;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Loads Llama-family causal LMs from Hugging Face folders ({@code config.json}, {@code model.safetensors} or the
 * sharded {@code model.safetensors.index.json}, optional {@code generation_config.json}).
 *
 * <pre>{@code
 * DecoderModels.Loaded m = DecoderModels.causalLm(folder, model.getNDManager());
 * AdaptedModel peft = AdaptedModel.inject(m.block(), LoraConfig.builder().r(8).targetModules("q_proj", "v_proj")
 *         .build());
 * }</pre>
 *
 * <p>Loading is strict: every parameter must be in the checkpoint and every checkpoint tensor must be a parameter
 * (both lists are named in the error), except the {@code rotary_emb.inv_freq} buffers transformers ignores and, with
 * {@code tie_word_embeddings}, an {@code lm_head.weight} equal to {@code model.embed_tokens.weight}.
 */
public final class DecoderModels {

    private static final String LM_HEAD = "lm_head.weight";
    private static final String EMBED = "model.embed_tokens.weight";

    private DecoderModels() {}

    /**
     * A loaded model.
     *
     * @param block the initialised block holding the weights
     * @param config its configuration
     * @param generation the special tokens for generation
     * @param report what the weight load did (every key loaded)
     */
    public record Loaded(
            CausalLm block, DecoderConfig config, GenerationConfig generation, HfWeights.LoadReport report) {}

    /**
     * Loads a causal LM from a folder.
     *
     * @param folder the model folder
     * @param manager the manager that owns the parameters (e.g. {@code Model.getNDManager()})
     * @return the model
     * @throws IOException if files are missing or unreadable
     * @throws IllegalArgumentException if the config is unsupported or the checkpoint does not fit it
     */
    public static Loaded causalLm(Path folder, NDManager manager) throws IOException {
        DecoderConfig cfg = DecoderConfig.load(folder);
        GenerationConfig generation = GenerationConfig.load(folder);
        CausalLm block = new CausalLm(cfg);
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(folder)) {
            boolean tiedHeadInFile = cfg.tieWordEmbeddings() && ckpt.keys().contains(LM_HEAD);
            if (tiedHeadInFile) {
                requireTiedCopy(ckpt, manager);
            }
            TensorSource source = new HiddenBuffers(
                    ckpt, k -> HiddenBuffers.isRotaryBuffer(k) || (tiedHeadInFile && k.equals(LM_HEAD)));
            Set<String> params = BlockTree.parameters(block).keySet();
            List<String> missing = new ArrayList<>(params);
            missing.removeAll(source.keys());
            List<String> unexpected = new ArrayList<>(source.keys());
            unexpected.removeAll(params);
            if (!missing.isEmpty() || !unexpected.isEmpty()) {
                throw new IllegalArgumentException(ckpt.describe() + " does not fit " + cfg.architecture() + " of "
                        + folder.resolve("config.json")
                        + (missing.isEmpty() ? "" : ": missing tensors " + shown(missing))
                        + (unexpected.isEmpty() ? "" : ": unexpected tensors " + shown(unexpected))
                        + (missing.contains(LM_HEAD)
                                ? " (tie_word_embeddings is false, so lm_head.weight is needed)"
                                : ""));
            }
            initialize(block, manager);
            HfWeights.LoadReport report = HfWeights.load(block, cfg.architecture(), "model", source, manager);
            return new Loaded(block, cfg, generation, report);
        }
    }

    private static void requireTiedCopy(TensorSource ckpt, NDManager manager) throws IOException {
        try (NDManager tmp = manager.newSubManager()) {
            NDArray head = ckpt.load(tmp, LM_HEAD);
            NDArray embed = ckpt.keys().contains(EMBED) ? ckpt.load(tmp, EMBED) : null;
            if (embed == null || !head.getShape().equals(embed.getShape()) || !head.contentEquals(embed)) {
                throw new IllegalArgumentException(ckpt.describe() + ": tie_word_embeddings is true but " + LM_HEAD
                        + " differs from " + EMBED + "; a tied model uses the embedding for the logits");
            }
        }
    }

    /**
     * Initialises every parameter as transformers does for new weights (normal(0, initializer_range) for weights,
     * zero biases, RMSNorm weights 1).
     *
     * @param block the model
     * @param manager the manager that owns the parameters
     */
    public static void initialize(CausalLm block, NDManager manager) {
        block.setInitializer(new NormalInitializer(block.config().initializerRange()), Parameter.Type.WEIGHT);
        block.initialize(manager, DataType.FLOAT32, inputShapes());
    }

    /**
     * Returns the input shapes to initialise a {@link CausalLm} with ({@code input_ids}, {@code attention_mask},
     * {@code position_ids}; only the rank matters).
     *
     * @return three (1, 1) shapes
     */
    public static Shape[] inputShapes() {
        return new Shape[] {new Shape(1, 1), new Shape(1, 1), new Shape(1, 1)};
    }

    private static String shown(List<String> keys) {
        return keys.size() <= 10 ? keys.toString() : keys.subList(0, 10) + " and " + (keys.size() - 10) + " more";
    }
}
