package dev.delora.examples;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.delora.core.method.AdapterMethods;
import dev.delora.examples.glue.GlueData;
import dev.delora.examples.glue.GlueDownload;
import dev.delora.examples.glue.GlueRunner;
import dev.delora.examples.glue.GlueTask;
import dev.delora.examples.glue.Hyperparameters;
import dev.delora.examples.glue.ModelSource;
import dev.delora.examples.glue.Presets;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The examples' command line. With no arguments it runs the embedded default: DeLoRA fine-tuning of the embedded
 * all-MiniLM-L6-v2 on a real SST-2 sample, offline, then merge and export. {@code glue} runs the DeLoRA paper's GLUE
 * protocol for any task, method and model.
 */
@Command(
        name = "delora-examples",
        mixinStandardHelpOptions = true,
        version = "delora4j 0.1.0",
        subcommands = {Main.Glue.class},
        description = {
            "Fine-tunes with parameter-efficient adapters on DJL.",
            "Without a command: DeLoRA on the embedded all-MiniLM-L6-v2 with a 2,000-sentence SST-2 sample (offline),",
            "then merge the adapter and export a Hugging Face folder to runs/default."
        })
public final class Main implements Callable<Integer> {

    @Option(names = "--epochs", description = "Epochs of the default job (default: ${DEFAULT-VALUE}).")
    int epochs = 3;

    @Option(names = "--output", description = "Output folder of the default job (default: ${DEFAULT-VALUE}).")
    Path output = Path.of("runs", "default");

    /**
     * Runs the command line.
     *
     * @param args the arguments
     */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /**
     * Returns the command line with one-line reports of user errors: a bad option or value, or an invalid setting
     * found while running (an {@link IllegalArgumentException}), prints its message and exits 2, no stack trace.
     *
     * @return the configured command line
     */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
        cli.setParameterExceptionHandler((ex, args) -> {
            ex.getCommandLine().getErr().println("error: " + ex.getMessage() + " (see --help)");
            return 2;
        });
        cli.setExecutionExceptionHandler((ex, command, parsed) -> {
            if (ex instanceof IllegalArgumentException || ex instanceof java.nio.file.NoSuchFileException) {
                command.getErr().println("error: " + ex.getMessage());
                return 2;
            }
            throw ex;
        });
        return cli;
    }

    @Override
    public Integer call() throws Exception {
        Hyperparameters preset = Presets.of(GlueTask.SST2, "delora");
        Hyperparameters hp = new Hyperparameters(
                "delora",
                epochs,
                32,
                preset.lr(),
                preset.weightDecay(),
                preset.warmupRatio(),
                preset.maxGradNorm(),
                128,
                preset.targets(),
                preset.adapterFields(),
                preset.groupLearningRates());
        System.out.println("delora4j default job: DeLoRA (r=8 on query/value, paper init) on the embedded "
                + "all-MiniLM-L6-v2, SST-2 sample (2,000 train sentences; 872 dev sentences split 436/436 as "
                + "the paper)");
        GlueRunner runner = new GlueRunner(
                GlueTask.SST2,
                hp,
                ModelSource.EMBEDDED,
                Engine.getInstance().defaultDevice(),
                output,
                64,
                true,
                System.out);
        runner.runAll(List.of(42), GlueData::embeddedSst2);
        System.out.println("logs, summary.json, results.md and the merged model are in " + output.toAbsolutePath());
        return 0;
    }

    /** The {@code glue} command: the RED/DeLoRA GLUE protocol. */
    @Command(
            name = "glue",
            mixinStandardHelpOptions = true,
            description = {
                "Fine-tunes on a GLUE task with the DeLoRA paper's protocol: the official dev set split",
                "into new validation/test halves by numpy's RandomState(seed) (1,000 validation rows for mnli, qnli,",
                "qqp; CoLA reversed), validation every epoch, test whenever validation strictly improves; the result",
                "is the test metric at the best validation epoch. Unset hyperparameters come from the method's preset",
                "for the task (see Presets: DeLoRA follows the paper's Table 9)."
            })
    static final class Glue implements Callable<Integer> {

        @Option(names = "--task", required = true, description = "cola, sst2, mrpc, qqp, stsb, mnli, qnli or rte.")
        String task;

        @Option(
                names = "--method",
                defaultValue = "delora",
                description = "A registered adapter method: " + "${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).",
                completionCandidates = MethodNames.class)
        String method;

        @Option(
                names = "--model",
                defaultValue = "embedded",
                description = "'embedded' (all-MiniLM-L6-v2 from "
                        + "Maven Central), a Hugging Face model folder, or a hub id such as FacebookAI/roberta-base "
                        + "(downloaded into the Hugging Face cache when online) (default: ${DEFAULT-VALUE}).")
        String model;

        @Option(
                names = "--data-dir",
                description = "Folder with the task's GLUE TSVs (train.tsv, dev.tsv; MNLI "
                        + "dev_matched.tsv), e.g. glue_data/RTE. Without it the task is downloaded from GLUE's "
                        + "addresses "
                        + "into ~/.cache/delora4j/glue when online (cached afterwards).")
        Path dataDir;

        @Option(
                names = "--embedded-sample",
                description = "sst2 only: use the 2,000-sentence SST-2 sample shipped "
                        + "with the examples instead of the full task.")
        boolean embeddedSample;

        @Option(
                names = "--seeds",
                split = ",",
                defaultValue = "42,43,44,45,46",
                description = "Seeds; each also seeds its validation/test split (default: ${DEFAULT-VALUE}).")
        List<Integer> seeds;

        @Option(names = "--output", description = "Output folder (default: runs/<task>-<method>).")
        Path output;

        @Option(
                names = "--device",
                description = "cpu, gpu or gpu:N (default: the engine's default, a GPU when " + "present).")
        String device;

        @Option(names = "--epochs", description = "Training epochs.")
        Integer epochs;

        @Option(names = "--batch-size", description = "Training batch size.")
        Integer batchSize;

        @Option(
                names = "--eval-batch-size",
                defaultValue = "64",
                description = "Evaluation batch size " + "(default: ${DEFAULT-VALUE}).")
        int evalBatchSize;

        @Option(names = "--lr", description = "Learning rate of the adapter and the classification head.")
        Double lr;

        @Option(names = "--weight-decay", description = "AdamW weight decay (never on biases or LayerNorm).")
        Double weightDecay;

        @Option(names = "--warmup-ratio", description = "Share of steps with linear warmup.")
        Double warmupRatio;

        @Option(names = "--max-grad-norm", description = "Global-norm gradient clipping; omit for none.")
        Double maxGradNorm;

        @Option(names = "--r", description = "Rank (the adapter field r).")
        Integer r;

        @Option(names = "--max-length", description = "Tokenizer truncation length.")
        Integer maxLength;

        @Option(names = "--targets", split = ",", description = "Target modules (names or dot-suffixes).")
        List<String> targets;

        @Option(
                names = "--adapter-field",
                paramLabel = "NAME=VALUE",
                description = "An adapter_config.json field "
                        + "of the method, with PEFT's name, over the preset (repeatable), e.g. lora_alpha=16, "
                        + "lora_dropout=0.1, delora_lambda=12, init_weights=paper, sparse_lambda_2=3e-4. VALUE is a "
                        + "JSON "
                        + "number, true, false or null, else a string.")
        Map<String, String> adapterFields = new LinkedHashMap<>();

        @Option(
                names = "--group-lr",
                paramLabel = "GROUP=LR",
                description = "Learning rate of a parameter group the "
                        + "method defines (repeatable), e.g. delora_lambda=3e-3 (DeLoRA's λ), sora_gate=8e-4 "
                        + "(SoRA's gates).")
        Map<String, Double> groupLrs = new LinkedHashMap<>();

        @Option(
                names = "--max-train-samples",
                description = "Use only the first N training examples " + "(quick runs).")
        Integer maxTrainSamples;

        @Option(names = "--export", description = "Merge the best adapter and export a Hugging Face folder per seed.")
        boolean export;

        @Override
        public Integer call() throws Exception {
            GlueTask t = GlueTask.of(task);
            Hyperparameters p = Presets.of(t, method);
            Map<String, Object> fields = new LinkedHashMap<>();
            if (r != null) {
                fields.put("r", r);
            }
            adapterFields.forEach((k, v) -> fields.put(k, jsonScalar(v)));
            Map<String, Double> groups = new LinkedHashMap<>(p.groupLearningRates());
            groups.putAll(groupLrs);
            Hyperparameters hp = new Hyperparameters(
                            p.method(),
                            or(epochs, p.epochs()),
                            or(batchSize, p.batchSize()),
                            or(lr, p.lr()),
                            or(weightDecay, p.weightDecay()),
                            or(warmupRatio, p.warmupRatio()),
                            or(maxGradNorm, p.maxGradNorm()),
                            or(maxLength, p.maxLength()),
                            or(targets, p.targets()),
                            p.adapterFields(),
                            groups)
                    .withAdapterFields(fields);
            hp.adapterConfig(List.of("classifier")); // fail fast, naming the field, before any model is loaded
            if (embeddedSample && t != GlueTask.SST2) {
                throw new CommandLine.ParameterException(
                        new CommandLine(this), "--embedded-sample exists only for sst2, not " + t.id());
            }
            Path taskDir = embeddedSample
                    ? null
                    : dataDir != null ? dataDir : GlueDownload.fromEnvironment().taskDir(t);
            Path out = output != null ? output : Path.of("runs", t.id() + "-" + hp.method());
            Device dev = device == null ? Engine.getInstance().defaultDevice() : Device.fromName(device);
            System.out.println("glue " + t.id() + " with " + hp.method() + " on " + dev + ": " + hp);
            GlueRunner runner =
                    new GlueRunner(t, hp, new ModelSource(model), dev, out, evalBatchSize, export, System.out);
            runner.runAll(seeds, seed -> {
                GlueData.Splits s = taskDir == null ? GlueData.embeddedSst2(seed) : GlueData.load(t, taskDir, seed);
                if (maxTrainSamples != null && maxTrainSamples < s.train().size()) {
                    s = new GlueData.Splits(t, s.train().subList(0, maxTrainSamples), s.validation(), s.test());
                }
                return s;
            });
            System.out.println("results: " + out.resolve("results.md").toAbsolutePath());
            return 0;
        }

        private static <T> T or(T value, T fallback) {
            return value != null ? value : fallback;
        }

        /** Reads a command-line value as JSON does: a number, true, false or null, else the string itself. */
        static Object jsonScalar(String v) {
            switch (v) {
                case "true":
                    return true;
                case "false":
                    return false;
                case "null":
                    return null;
                default:
                    try {
                        return new BigDecimal(v);
                    } catch (NumberFormatException e) {
                        return v;
                    }
            }
        }
    }

    /** The registered method names, for {@code --help}. */
    static final class MethodNames implements Iterable<String> {
        @Override
        public Iterator<String> iterator() {
            return AdapterMethods.names().iterator();
        }
    }
}
