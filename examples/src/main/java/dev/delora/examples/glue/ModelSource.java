package dev.delora.examples.glue;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import dev.delora.djl.hf.EmbeddedModels;
import dev.delora.djl.hf.HfConfig;
import dev.delora.djl.hf.HfHub;
import dev.delora.djl.hf.HfModels;
import dev.delora.djl.hf.HfTokenizer;
import dev.delora.djl.hf.HfWeights;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the pretrained encoder comes from: the embedded all-MiniLM-L6-v2 (from Maven Central, no network), a Hugging
 * Face model folder, or a hub id resolved through the standard cache (downloaded when online).
 *
 * @param spec {@code embedded}, a folder path, or a hub id such as {@code FacebookAI/roberta-base}
 */
public record ModelSource(String spec) {

    /** The embedded default. */
    public static final ModelSource EMBEDDED = new ModelSource("embedded");

    /**
     * A loaded sequence classifier and its tokenizer.
     *
     * @param block the model
     * @param config its config (with the task's number of labels)
     * @param tokenizer the tokenizer (close it)
     * @param tokenizerJson the original {@code tokenizer.json}, shipped with exports
     * @param report what the checkpoint held: its {@link HfWeights.LoadReport#newModules() new modules} (the
     *     embedded model's pooler and every new head) have values only in this model
     */
    public record Loaded(
            Block block, HfConfig config, HfTokenizer tokenizer, String tokenizerJson, HfWeights.LoadReport report) {}

    /**
     * Loads the model with a new classification head of {@code numLabels} outputs.
     *
     * @param manager the model's manager
     * @param numLabels the number of labels (1 = regression)
     * @param maxLength the tokenizer's truncation length
     * @return the model and tokenizer
     * @throws IOException if files are missing or invalid
     */
    public Loaded load(NDManager manager, int numLabels, int maxLength) throws IOException {
        if ("embedded".equals(spec)) {
            EmbeddedModels.Embedded m = EmbeddedModels.miniLm(manager, numLabels, maxLength);
            String json;
            try (InputStream in = EmbeddedModels.class.getResourceAsStream(EmbeddedModels.MINILM_TOKENIZER)) {
                json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            return new Loaded(m.block(), m.config(), m.tokenizer(), json, m.report());
        }
        Path folder = Path.of(spec);
        if (!Files.isDirectory(folder)) {
            folder = HfHub.fromEnvironment().snapshot(spec, "main");
        }
        HfModels.Loaded<?> m = HfModels.sequenceClassifier(folder, manager, numLabels);
        HfTokenizer tokenizer = HfTokenizer.load(folder, HfTokenizer.Options.of(maxLength));
        return new Loaded(
                m.block(), m.config(), tokenizer, Files.readString(folder.resolve("tokenizer.json")), m.report());
    }

    /**
     * What adapters trained on this model record as {@code base_model_name_or_path}, so that PEFT's
     * {@code AutoPeftModel…from_pretrained(adapter_dir)} finds the base: the hub id, the folder's absolute path, or
     * for the embedded model the hub repository its weights come from ({@code sentence-transformers/all-MiniLM-L6-v2};
     * its pooler is not in that checkpoint and is initialised anew, see {@code EmbeddedModels}, so the GLUE runner
     * trains and saves it with the adapter).
     *
     * @return the name or path
     */
    public String baseModelNameOrPath() {
        if ("embedded".equals(spec)) {
            return "sentence-transformers/all-MiniLM-L6-v2";
        }
        Path folder = Path.of(spec);
        return Files.isDirectory(folder) ? folder.toAbsolutePath().toString() : spec;
    }

    @Override
    public String toString() {
        return "embedded".equals(spec) ? "embedded all-MiniLM-L6-v2" : spec;
    }
}
