package dev.delora.benchmarks;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Prints one markdown table: (1) adapted {@code Linear} forward + backward against the plain frozen one, (2) training
 * step throughput and peak resident memory of a RoBERTa-base-shaped classifier for each method and batch size, with
 * inference unmerged vs merged, (3) merge time, and a 1,000-step resident-memory trace; with {@code --peft FILE}
 * (written by {@code src-test-fixtures/parity/bench_peft.py}) also PyTorch + PEFT's numbers and our/PEFT ratios.
 *
 * <p>Each configuration runs in a fresh JVM (this class, re-executed with {@code --child}, see {@link ChildProcess})
 * so that every peak resident size ({@code VmHWM}) belongs to one configuration; libtorch's thread counts are set
 * explicitly in each. The measurements are in {@link Sections}, the table in {@link ResultTable}, and the methods
 * come from the registry as {@link MethodSpec}s. {@code --help} lists the options.
 */
@Command(
        name = "BenchmarkMain",
        mixinStandardHelpOptions = true,
        version = "delora4j benchmarks 0.1.0",
        sortOptions = false,
        usageHelpWidth = 120,
        description = "Speed and memory of the adapters (delora4j) next to PyTorch + PEFT, as one markdown table.",
        footer = {
            "",
            "A method SPEC is base (no adapter), NAME or NAME:field=value[,field=value...], with NAME a registered "
                    + "method and PEFT adapter_config.json field names and JSON values, e.g. lora, "
                    + "delora:init_weights=paper, sora:sparse_lambda=5,lora_alpha=8. In a list, a part field=value "
                    + "continues the spec before it. Unless a spec says otherwise: no adapter dropout, "
                    + "lora_alpha = 2r, DeLoRA delora_lambda 15 with init_weights true and its lambda group at "
                    + "lr 3e-3; base lr 1e-4, weight decay 0.01. delora-paper is accepted for "
                    + "delora:init_weights=paper.",
            "Exit status: 0 on success, 2 on a usage error, 1 when a measurement fails."
        })
public final class BenchmarkMain implements Callable<Integer> {

    /** The sections a run measures, and what a child process runs. */
    enum Section {
        /** Section 1, the adapted Linear. */
        LAYER,
        /** Sections 2 and 3, training step, inference and merge of the encoder. */
        TRAIN,
        /** The resident-memory trace. */
        SOAK
    }

    @Spec
    CommandSpec spec;

    @Option(
            names = "--peft",
            split = ",",
            paramLabel = "FILE",
            description = "PyTorch + PEFT results from "
                    + "bench_peft.py: adds PEFT and our/PEFT columns (several files, e.g. interleaved rounds: the "
                    + "median of "
                    + "each number).")
    List<Path> peft;

    @Option(
            names = "--json",
            paramLabel = "FILE",
            description = "Also write our results as JSON (bench_peft.py's "
                    + "schema; method keys are the specs' canonical labels).")
    Path json;

    @Option(
            names = "--results",
            split = ",",
            paramLabel = "FILE",
            description =
                    "Measure nothing: print the table " + "from --json files written earlier (median per number).")
    List<Path> results;

    @Option(
            names = "--threads",
            paramLabel = "N",
            defaultValue = "2",
            description = "libtorch intra-op threads (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(
            names = "--interop-threads",
            paramLabel = "N",
            defaultValue = "1",
            description = "libtorch inter-op threads (default: ${DEFAULT-VALUE}).")
    int interopThreads;

    @Option(
            names = "--warmup",
            paramLabel = "N",
            defaultValue = "1",
            description = "Untimed repetitions before each timing (default: ${DEFAULT-VALUE}; layer: 3 + N).")
    int warmup;

    @Option(
            names = "--layer-iterations",
            paramLabel = "N",
            defaultValue = "20",
            description = "Timed repetitions, section 1 (default: ${DEFAULT-VALUE}).")
    int layerIterations;

    @Option(
            names = "--train-iterations",
            paramLabel = "N",
            defaultValue = "3",
            description = "Timed training steps per configuration (default: ${DEFAULT-VALUE}).")
    int trainIterations;

    @Option(
            names = "--infer-iterations",
            paramLabel = "N",
            defaultValue = "3",
            description = "Timed inference forwards per configuration (default: ${DEFAULT-VALUE}).")
    int inferIterations;

    @Option(
            names = "--merge-iterations",
            paramLabel = "N",
            defaultValue = "5",
            description = "Timed merges (default: ${DEFAULT-VALUE}).")
    int mergeIterations;

    @Option(
            names = "--batches",
            split = ",",
            paramLabel = "N",
            defaultValue = "8,32",
            description = "Batch sizes of section 2 (default: ${DEFAULT-VALUE}).")
    List<Integer> batches;

    @Option(
            names = "--seq",
            paramLabel = "N",
            defaultValue = "128",
            description = "Sequence length (default: ${DEFAULT-VALUE}).")
    int seq;

    @Option(
            names = "--layers",
            paramLabel = "N",
            defaultValue = "12",
            description = "Encoder layers (default: ${DEFAULT-VALUE}, RoBERTa-base).")
    int layers;

    @Option(
            names = "--rank",
            paramLabel = "N",
            defaultValue = "8",
            description = "Adapter rank r, unless a spec sets r (default: ${DEFAULT-VALUE}).")
    int rank;

    @Option(
            names = "--methods",
            paramLabel = "SPEC[,SPEC...]",
            defaultValue = MethodSpec.DEFAULT_METHODS,
            description = "Adapters (default: ${DEFAULT-VALUE}); base always runs.")
    String methodList;

    @Option(
            names = "--batch-methods",
            paramLabel = "B:SPEC[,SPEC...][;...]",
            defaultValue = "",
            description = "Other adapters for one batch size (repeat with ';'), to keep big batches short, e.g. "
                    + "'32:lora,delora'.")
    String batchMethodList;

    /** {@code --methods}, parsed by {@link OptionChecks#validate}. */
    List<MethodSpec> methods;

    /** {@code --batch-methods}, parsed by {@link OptionChecks#validate}. */
    Map<Integer, List<MethodSpec>> batchMethods;

    @Option(
            names = "--sections",
            split = ",",
            paramLabel = "SECTION",
            defaultValue = "layer,train,soak",
            description = "Sections to run, of layer, train, soak (default: all).")
    List<Section> sections;

    @Option(
            names = "--soak-steps",
            paramLabel = "N",
            defaultValue = "1000",
            description = "Training steps of the memory trace (default: ${DEFAULT-VALUE}).")
    int soakSteps;

    @Option(
            names = "--soak-layers",
            paramLabel = "N",
            defaultValue = "2",
            description = "Encoder layers of the memory trace (default: ${DEFAULT-VALUE}).")
    int soakLayers;

    @Option(
            names = "--soak-batch",
            paramLabel = "N",
            defaultValue = "4",
            description = "Batch size of the memory trace (default: ${DEFAULT-VALUE}).")
    int soakBatch;

    @Option(
            names = "--soak-seq",
            paramLabel = "N",
            defaultValue = "64",
            description = "Sequence length of the memory trace (default: ${DEFAULT-VALUE}).")
    int soakSeq;

    @Option(
            names = "--soak-method",
            paramLabel = "SPEC",
            defaultValue = MethodSpec.DEFAULT_SOAK_METHOD,
            description = "Method of the memory trace (default: ${DEFAULT-VALUE}).")
    MethodSpec soakMethod;

    @Option(
            names = "--no-fork",
            negatable = false,
            description = "Run every configuration in this JVM (peak " + "memory is then shared).")
    boolean noFork;

    @Option(
            names = "--child",
            paramLabel = "SECTION",
            description = "Internal (the parent passes it to each child "
                    + "JVM): measure one section or configuration and print its result as a RESULT line.")
    Section child;

    @Option(names = "--method", paramLabel = "SPEC", description = "Internal, with --child train: the method.")
    MethodSpec method;

    @Option(
            names = "--batch",
            paramLabel = "N",
            defaultValue = "0",
            description = "Internal, with --child train: the batch size.")
    int batch;

    /**
     * Entry point.
     *
     * @param args options, see {@code --help}
     */
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /**
     * Returns the command line: method specs converted with {@link MethodSpec#parse}, sections case-insensitive,
     * and a usage error reported as one line with exit status 2.
     *
     * @return a new command line over a new instance
     */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new BenchmarkMain());
        cl.registerConverter(MethodSpec.class, s -> {
            try {
                return MethodSpec.parse(s);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        });
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setParameterExceptionHandler((ex, args) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("BenchmarkMain: " + ex.getMessage() + " (--help lists the options)");
            err.flush();
            return 2;
        });
        return cl;
    }

    /**
     * Parses options as {@link #main} does, without running anything (a child in this JVM).
     *
     * @param args the options
     * @return the parsed, validated options
     */
    static BenchmarkMain parse(List<String> args) {
        CommandLine cl = commandLine();
        cl.parseArgs(args.toArray(String[]::new));
        BenchmarkMain o = cl.getCommand();
        OptionChecks.validate(o);
        return o;
    }

    @Override
    public Integer call() throws Exception {
        OptionChecks.validate(this);
        // read once by PtEngine when the engine starts; nothing here has touched the engine yet
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        System.setProperty("ai.djl.pytorch.num_interop_threads", Integer.toString(interopThreads));
        System.setProperty("ai.djl.offline", "true");
        if (child != null) {
            System.out.println(ChildProcess.RESULT + Sections.run(this));
            return 0;
        }
        if (results != null) {
            ResultTable.print(
                    System.out, layers, JsonMedian.read(results), peft == null ? null : JsonMedian.read(peft));
            return 0;
        }
        JsonObject ours = new JsonObject();
        ours.add("meta", OptionChecks.meta(this));
        if (sections.contains(Section.LAYER)) {
            System.err.println("[bench] section 1: adapted Linear");
            ours.add("layer", ChildProcess.run(this, List.of("--child", "layer")));
        }
        if (sections.contains(Section.TRAIN)) {
            JsonObject train = new JsonObject();
            for (int b : batches) {
                JsonObject perMethod = new JsonObject();
                for (MethodSpec m : withBase(batchMethods.getOrDefault(b, methods))) {
                    System.err.printf(Locale.ROOT, "[bench] section 2: %s, batch %d%n", m.label(), b);
                    perMethod.add(
                            m.label(),
                            ChildProcess.run(
                                    this,
                                    List.of(
                                            "--child",
                                            "train",
                                            "--method",
                                            m.label(),
                                            "--batch",
                                            Integer.toString(b))));
                }
                train.add(Integer.toString(b), perMethod);
            }
            ours.add("train", train);
        }
        if (sections.contains(Section.SOAK)) {
            System.err.println("[bench] native memory over " + soakSteps + " steps");
            ours.add("soak", ChildProcess.run(this, List.of("--child", "soak")));
        }
        JsonObject peftResults = peft == null ? null : JsonMedian.read(peft);
        if (json != null) {
            Files.writeString(
                    json, new GsonBuilder().setPrettyPrinting().create().toJson(ours));
        }
        ResultTable.print(System.out, layers, ours, peftResults);
        return 0;
    }

    /** The base first, then the adapters. */
    static List<MethodSpec> withBase(List<MethodSpec> specs) {
        List<MethodSpec> all = new ArrayList<>(List.of(MethodSpec.BASE));
        specs.stream().filter(m -> !m.isBase()).forEach(all::add);
        return all;
    }

    /**
     * Returns the options every child inherits, as arguments.
     *
     * @return the arguments
     */
    List<String> childArgs() {
        List<String> a = new ArrayList<>(List.of(
                "--threads",
                "" + threads,
                "--interop-threads",
                "" + interopThreads,
                "--warmup",
                "" + warmup,
                "--layer-iterations",
                "" + layerIterations,
                "--train-iterations",
                "" + trainIterations,
                "--infer-iterations",
                "" + inferIterations,
                "--merge-iterations",
                "" + mergeIterations,
                "--seq",
                "" + seq,
                "--layers",
                "" + layers,
                "--rank",
                "" + rank,
                "--soak-steps",
                "" + soakSteps,
                "--soak-layers",
                "" + soakLayers,
                "--soak-batch",
                "" + soakBatch,
                "--soak-seq",
                "" + soakSeq,
                "--soak-method",
                soakMethod.label()));
        a.add("--methods");
        a.add(String.join(",", methods.stream().map(MethodSpec::label).toList()));
        return a;
    }
}
