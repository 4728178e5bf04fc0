package dev.delora.djl.hf;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import com.google.gson.GsonBuilder;
import dev.delora.djl.io.AtomicFiles;
import dev.delora.djl.io.Safetensors;
import dev.delora.djl.peft.AdaptedLinear;
import dev.delora.djl.tree.BlockTree;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes a plain (merged or never adapted) encoder as a Hugging Face model folder: {@code config.json},
 * {@code model.safetensors} with transformers' key names and, when given, {@code tokenizer.json}. transformers loads
 * the
 * folder with {@code AutoModelForSequenceClassification.from_pretrained} and gives the same logits.
 */
public final class HfExport {

    private HfExport() {}

    /**
     * Exports a model.
     *
     * @param block an {@link HfSequenceClassifier} or {@link HfEncoderModel} without adapters (merge and unload first)
     * @param config its config
     * @param tokenizerJson the {@code tokenizer.json} text to ship beside the weights, or {@code null}
     * @param dir the output folder (created; existing files of the same names are replaced atomically)
     * @throws IOException if writing fails
     * @throws IllegalArgumentException if the model still holds adapters
     */
    public static void save(Block block, HfConfig config, String tokenizerJson, Path dir) throws IOException {
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : BlockTree.parameters(block).entrySet()) {
            tensors.put(e.getKey(), e.getValue().getArray());
        }
        if (BlockTree.modules(block).values().stream().anyMatch(b -> b instanceof AdaptedLinear)) {
            throw new IllegalArgumentException("The model still holds adapters; call AdaptedModel.mergeAndUnload() "
                    + "(or unload()) before exporting it as a plain Hugging Face model");
        }
        Files.createDirectories(dir);
        Safetensors.write(dir.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        boolean classification = block instanceof HfSequenceClassifier;
        AtomicFiles.writeString(
                dir.resolve("config.json"),
                new GsonBuilder().setPrettyPrinting().create().toJson(config.toJson(classification)) + "\n");
        if (tokenizerJson != null) {
            AtomicFiles.writeString(dir.resolve("tokenizer.json"), tokenizerJson);
        }
    }
}
