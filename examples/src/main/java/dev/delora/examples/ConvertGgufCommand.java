package dev.delora.examples;

import dev.delora.djl.hf.gguf.GgufConversion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * The {@code convert-gguf} command: a llama.cpp GGUF checkpoint ({@code general.architecture = llama}; F32, F16, BF16,
 * Q8_0, Q4_0 or Q4_1 tensors; a gpt2 byte-level BPE tokenizer) to a Hugging Face folder that the {@code gsm8k}
 * command, {@code DecoderModels.causalLm} and transformers load ({@link GgufConversion#toHfFolder}).
 */
@Command(
        name = "convert-gguf",
        mixinStandardHelpOptions = true,
        description = {
            "Converts a llama.cpp GGUF file (Llama architecture; F32/F16/BF16/Q8_0/Q4_0/Q4_1 tensors dequantized to",
            "float32) into a Hugging Face folder: config.json, model.safetensors, tokenizer.json and",
            "tokenizer_config.json with the chat template. The folder is written as a whole or not at all."
        })
public final class ConvertGgufCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "GGUF", description = "The .gguf file.")
    Path gguf;

    @Parameters(index = "1", paramLabel = "FOLDER", description = "The Hugging Face folder to write.")
    Path folder;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(gguf)) {
            throw new IllegalArgumentException("GGUF " + gguf + ": "
                    + (Files.isDirectory(gguf) ? "a folder" : "no such file") + " (expected a .gguf file)");
        }
        long start = System.nanoTime();
        GgufConversion.toHfFolder(gguf, folder);
        System.out.printf(
                java.util.Locale.ROOT,
                "wrote %s in %.1f s%n",
                folder.toAbsolutePath().normalize(),
                (System.nanoTime() - start) / 1e9);
        return 0;
    }
}
