package dev.delora.examples;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.delora.core.method.AdapterMethods;
import dev.delora.examples.glue.GlueData;
import dev.delora.examples.glue.GlueRunner;
import dev.delora.examples.glue.GlueTask;
import dev.delora.examples.glue.Hyperparameters;
import dev.delora.examples.glue.ModelSource;
import dev.delora.examples.glue.Presets;
import dev.delora.examples.robustness.RobustnessCommand;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The examples' command line. With no arguments it runs the embedded default: DeLoRA fine-tuning of the embedded
 * all-MiniLM-L6-v2 on a real SST-2 sample, offline, then merge and export. {@code glue} runs the DeLoRA paper's GLUE
 * protocol for any task, method and model; {@code robustness} runs its learning-rate robustness study (Fig. 2, Fig. 3)
 * on a GLUE task as a resumable grid ({@link RobustnessCommand}); {@code gsm8k} fine-tunes a causal LM on GSM8K
 * ({@link Gsm8kCommand}); {@code convert-gguf} turns a llama.cpp GGUF file into a Hugging Face folder
 * ({@link ConvertGgufCommand}).
 */
@Command(
        name = "delora-examples",
        mixinStandardHelpOptions = true,
        version = "delora4j 0.1.0",
        subcommands = {Main.Glue.class, RobustnessCommand.class, Gsm8kCommand.class, ConvertGgufCommand.class},
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
    public static CommandLine commandLine() {
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

        @Mixin
        GlueOptions run;

        @Option(
                names = "--method",
                defaultValue = "delora",
                description = "A registered adapter method: " + "${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).",
                completionCandidates = MethodNames.class)
        String method;

        @Option(names = "--output", description = "Output folder (default: runs/<task>-<method>).")
        Path output;

        @Option(names = "--lr", description = "Learning rate of the adapter and the classification head.")
        Double lr;

        @Option(
                names = "--group-lr",
                paramLabel = "GROUP=LR",
                description = "Learning rate of a parameter group the "
                        + "method defines (repeatable), e.g. delora_lambda=3e-3 (DeLoRA's λ), sora_gate=8e-4 "
                        + "(SoRA's gates).")
        Map<String, Double> groupLrs = new LinkedHashMap<>();

        @Option(names = "--export", description = "Merge the best adapter and export a Hugging Face folder per seed.")
        boolean export;

        @Option(
                names = "--track-distance",
                arity = "0..1",
                fallbackValue = "10",
                paramLabel = "STEPS",
                description = "Record ||W_eff - W_0||_F of every adapted module (and DeLoRA's lambda) every STEPS "
                        + "optimizer steps (default when given without a value: ${FALLBACK-VALUE}) to "
                        + "seed-<seed>-distance.jsonl.")
        Integer trackDistance;

        @Override
        public Integer call() throws Exception {
            GlueTask t = run.task();
            Hyperparameters p = CliChecks.named("--method", () -> Presets.of(t, method));
            CliChecks.positive("--lr", lr);
            CliChecks.groupLearningRateValues(groupLrs);
            Device dev = run.checkValues(t);
            CliChecks.output(output);
            CliChecks.atLeast("--track-distance", trackDistance, 1);
            Hyperparameters hp = run.hyperparameters(t, p, lr, groupLrs);
            dev = GlueOptions.orDefault(dev);
            GlueRunner.SplitSource splits = run.splits(t);
            Path out = output != null ? output : Path.of("runs", t.id() + "-" + hp.method());
            System.out.println("glue " + t.id() + " with " + hp.method() + " on " + dev + ": " + hp);
            GlueRunner runner =
                    new GlueRunner(t, hp, run.modelSource(), dev, out, run.evalBatchSize(), export, System.out);
            if (trackDistance != null) {
                runner.trackDistance(trackDistance);
            }
            runner.groupByLength(run.groupByLength());
            runner.runAll(run.seeds(), splits);
            System.out.println("results: " + out.resolve("results.md").toAbsolutePath());
            return 0;
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
