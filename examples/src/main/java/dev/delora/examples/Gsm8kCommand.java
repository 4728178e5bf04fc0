package dev.delora.examples;

import dev.delora.core.method.AdapterMethods;
import dev.delora.djl.hf.HfHub;
import dev.delora.examples.gsm8k.Gsm8kData;
import dev.delora.examples.gsm8k.Gsm8kProblem;
import dev.delora.examples.gsm8k.Gsm8kRunner;
import dev.delora.examples.gsm8k.Gsm8kSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code gsm8k} command: adapter fine-tuning of a causal LM on GSM8K with next-token loss on the answers, with
 * held-out loss and exact match before and after ({@link Gsm8kRunner}). Every option is checked before the model is
 * loaded.
 */
@Command(
        name = "gsm8k",
        mixinStandardHelpOptions = true,
        description = {
            "Fine-tunes a decoder (Llama, Qwen2 or Mistral folder with tokenizer.json) on GSM8K problems with an",
            "adapter on q_proj and v_proj. Prompt: the tokenizer's chat template applied to the question as",
            "transformers' apply_chat_template(add_generation_prompt=True) does (plain ChatML without one); response =",
            "answer + <|im_end|>, loss on the response only. Before and after training it reports the held-out loss,",
            "the exact match of the final '#### N' of greedy generations and the throughput; summary.json,",
            "results.md and the adapter before (adapter_initial/) and after training (adapter/) go to --output."
        })
public final class Gsm8kCommand implements Callable<Integer> {

    @Option(
            names = "--model",
            required = true,
            description = "A Hugging Face decoder folder (config.json, model.safetensors, tokenizer.json, optional "
                    + "tokenizer_config.json with the chat template and generation_config.json), or a hub id such as "
                    + "HuggingFaceTB/SmolLM2-135M-Instruct (from the hub cache; downloaded unless offline).")
    String model;

    @Option(
            names = "--method",
            defaultValue = "delora",
            description = "A registered adapter method: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).",
            completionCandidates = Main.MethodNames.class)
    String method;

    @Option(names = "--r", description = "Rank (the adapter field r, default 8).")
    Integer r;

    @Option(
            names = "--adapter-field",
            paramLabel = "NAME=VALUE",
            description = "An adapter_config.json field of the method (repeatable), e.g. delora_lambda=12, "
                    + "lora_alpha=16. VALUE is a JSON number, true, false or null, else a string.")
    Map<String, String> adapterFields = new LinkedHashMap<>();

    @Option(names = "--lr", defaultValue = "2e-4", description = "Learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--epochs", defaultValue = "1", description = "Training epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(names = "--batch-size", defaultValue = "4", description = "Batch size (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(
            names = "--train-samples",
            defaultValue = "256",
            description = "Training problems, the first N (default: ${DEFAULT-VALUE}).")
    int trainSamples;

    @Option(
            names = "--eval-samples",
            defaultValue = "32",
            description = "Held-out test problems, the first M (default: ${DEFAULT-VALUE}).")
    int evalSamples;

    @Option(
            names = "--max-length",
            defaultValue = "512",
            description =
                    "Most tokens of prompt + answer; longer prompts lose their start (default: ${DEFAULT-VALUE}).")
    int maxLength;

    @Option(
            names = "--max-new-tokens",
            defaultValue = "256",
            description = "Most generated tokens per problem (default: ${DEFAULT-VALUE}).")
    int maxNewTokens;

    @Option(
            names = "--data-dir",
            description = "Folder with GSM8K's train.jsonl and test.jsonl (default: the embedded 256/128 sample).")
    Path dataDir;

    @Option(names = "--seed", defaultValue = "42", description = "Seed (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--output", description = "Output folder (default: runs/gsm8k-<method>).")
    Path output;

    @Override
    public Integer call() throws Exception {
        CliChecks.output(output);
        Map<String, Object> fields = new LinkedHashMap<>();
        if (r != null) {
            CliChecks.atLeast("--r", r, 1);
            fields.put("r", r);
        }
        adapterFields.forEach((k, v) -> fields.put(k, GlueOptions.jsonScalar(v)));
        Gsm8kSettings settings = new Gsm8kSettings(
                method, fields, lr, epochs, batchSize, trainSamples, evalSamples, maxLength, maxNewTokens, seed);
        CliChecks.named("--method", () -> AdapterMethods.byName(method));
        settings.adapterConfig(); // an invalid field is named before the model is loaded
        CliChecks.folderOrHubId(
                model,
                "expected a Hugging Face decoder folder or a hub id such as HuggingFaceTB/SmolLM2-135M-Instruct");
        if (dataDir != null) {
            for (String name : List.of("train.jsonl", "test.jsonl")) {
                if (!Files.isRegularFile(dataDir.resolve(name))) {
                    throw new IllegalArgumentException("--data-dir " + dataDir + " lacks " + name
                            + " (expected GSM8K's grade_school_math/data folder)");
                }
            }
        }
        List<Gsm8kProblem> train =
                dataDir == null ? Gsm8kData.embedded("train") : Gsm8kData.read(dataDir.resolve("train.jsonl"));
        List<Gsm8kProblem> test =
                dataDir == null ? Gsm8kData.embedded("test") : Gsm8kData.read(dataDir.resolve("test.jsonl"));
        Path out = output != null ? output : Path.of("runs", "gsm8k-" + method);
        Path folder = Files.isDirectory(Path.of(model))
                ? Path.of(model)
                : HfHub.fromEnvironment().snapshot(model, "main");
        new Gsm8kRunner(folder, settings, GlueOptions.orDefault(null), out, System.out).run(train, test);
        System.out.println("results: " + out.resolve("results.md").toAbsolutePath());
        return 0;
    }
}
