package dev.delora.examples;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.delora.core.AdapterConfig;
import dev.delora.core.method.AdapterMethods;
import dev.delora.examples.glue.GlueData;
import dev.delora.examples.glue.GlueDownload;
import dev.delora.examples.glue.GlueRunner;
import dev.delora.examples.glue.GlueTask;
import dev.delora.examples.glue.Hyperparameters;
import dev.delora.examples.glue.ModelSource;
import dev.delora.examples.glue.Presets;
import java.io.IOException;
import java.io.PrintWriter;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.Arrays;
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

    @Option(
            names = "--debug",
            scope = CommandLine.ScopeType.INHERIT,
            description = "Print the stack trace of an error after its one-line message.")
    boolean debug;

    /**
     * Runs the command line.
     *
     * @param args the arguments
     */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /**
     * Returns the command line with one-line error reports. Every option is checked before any model or data is
     * loaded. An error prints {@code error: <message>} on one line and exits 2 when it is the user's (a bad option,
     * value, file or data: {@link IllegalArgumentException}, {@link IOException}, picocli's usage errors, which add
     * {@code (see --help)}) or 1 when it is internal (any other exception, named by its class); {@code --debug} adds
     * the stack trace.
     *
     * @return the configured command line
     */
    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
        cli.setParameterExceptionHandler((ex, args) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("error: " + ErrorReport.message(ex) + " (see --help)");
            if (Arrays.asList(args).contains("--debug")) {
                ex.printStackTrace(err);
            }
            err.flush();
            return ErrorReport.USER;
        });
        cli.setExecutionExceptionHandler(
                (ex, command, parsed) -> ErrorReport.print(ex, command.getErr(), debug(parsed)));
        return cli;
    }

    private static boolean debug(CommandLine.ParseResult parsed) {
        for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--debug")) {
                return true;
            }
        }
        return false;
    }

    @Override
    public Integer call() throws Exception {
        CliChecks.atLeast("--epochs", epochs, 1);
        CliChecks.output(output);
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
            GlueTask t = CliChecks.named("--task", () -> GlueTask.of(task));
            Hyperparameters p = CliChecks.named("--method", () -> Presets.of(t, method));
            Device dev = checkValues(t);
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
            // fail fast, before any model is loaded: the adapter fields (naming the field), the trainer settings, the
            // group names, the device
            AdapterConfig config = hp.adapterConfig(List.of("classifier"));
            hp.trainerSettings().selectionMetric(t.selectionMetric()).build();
            CliChecks.groupNames(hp, config, groupLrs.keySet());
            if (dev == null) {
                dev = Engine.getInstance().defaultDevice();
            }
            Path taskDir = embeddedSample
                    ? null
                    : dataDir != null ? dataDir : GlueDownload.fromEnvironment().taskDir(t);
            Path out = output != null ? output : Path.of("runs", t.id() + "-" + hp.method());
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

        /**
         * Checks every option value that needs no model: each error names the option and the value.
         *
         * @return the device, or {@code null} for the engine's default
         */
        private Device checkValues(GlueTask t) {
            CliChecks.atLeast("--epochs", epochs, 1);
            CliChecks.atLeast("--batch-size", batchSize, 1);
            CliChecks.atLeast("--eval-batch-size", evalBatchSize, 1);
            CliChecks.atLeast("--max-length", maxLength, Hyperparameters.MIN_MAX_LENGTH);
            CliChecks.atLeast("--max-train-samples", maxTrainSamples, 1);
            CliChecks.atLeast("--r", r, 1);
            CliChecks.positive("--lr", lr);
            CliChecks.nonNegative("--weight-decay", weightDecay);
            CliChecks.unitInterval("--warmup-ratio", warmupRatio);
            CliChecks.positive("--max-grad-norm", maxGradNorm);
            CliChecks.groupLearningRateValues(groupLrs);
            CliChecks.seeds(seeds);
            Device dev = device == null ? null : CliChecks.device(device);
            if (embeddedSample && t != GlueTask.SST2) {
                throw new IllegalArgumentException("--embedded-sample exists only for sst2, not " + t.id());
            }
            if (embeddedSample && dataDir != null) {
                throw new IllegalArgumentException("--embedded-sample and --data-dir exclude each other");
            }
            if (dataDir != null) {
                CliChecks.dataDir(t, dataDir);
            }
            CliChecks.model(model);
            CliChecks.output(output);
            return dev;
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
