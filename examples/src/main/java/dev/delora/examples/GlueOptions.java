package dev.delora.examples;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.delora.core.AdapterConfig;
import dev.delora.examples.glue.GlueData;
import dev.delora.examples.glue.GlueDownload;
import dev.delora.examples.glue.GlueRunner;
import dev.delora.examples.glue.GlueTask;
import dev.delora.examples.glue.Hyperparameters;
import dev.delora.examples.glue.ModelSource;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The options every GLUE command shares (picocli mixin of {@code glue} and {@code robustness}): the task, the model,
 * the data, the seeds, the device and the hyperparameters that override a method's preset. Each check names the
 * option and runs before any model or data is loaded.
 */
public final class GlueOptions {

    @Option(names = "--task", required = true, description = "cola, sst2, mrpc, qqp, stsb, mnli, qnli or rte.")
    String task;

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

    @Option(names = "--max-train-samples", description = "Use only the first N training examples " + "(quick runs).")
    Integer maxTrainSamples;

    @Option(
            names = "--group-by-length",
            description = "glue only: batch training rows of similar length together (transformers' "
                    + "group_by_length): less padding, other batches, the same examples every epoch. Off by default "
                    + "(the papers' protocol).")
    boolean groupByLength;

    /** The command using these options (injected by picocli; {@code null} when built otherwise). */
    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    /**
     * Parses {@code --task}.
     *
     * @return the task
     * @throws IllegalArgumentException naming {@code --task} and the known tasks
     */
    public GlueTask task() {
        return CliChecks.named("--task", () -> GlueTask.of(task));
    }

    /**
     * Checks every shared option value that needs no model: each error names the option and the value.
     *
     * @param t the task
     * @return the device, or {@code null} for the engine's default ({@link #orDefault})
     * @throws IllegalArgumentException on the first bad value
     */
    public Device checkValues(GlueTask t) {
        CliChecks.atLeast("--epochs", epochs, 1);
        CliChecks.atLeast("--batch-size", batchSize, 1);
        CliChecks.atLeast("--eval-batch-size", evalBatchSize, 1);
        CliChecks.atLeast("--max-length", maxLength, Hyperparameters.MIN_MAX_LENGTH);
        CliChecks.atLeast("--max-train-samples", maxTrainSamples, 1);
        CliChecks.atLeast("--r", r, 1);
        CliChecks.nonNegative("--weight-decay", weightDecay);
        CliChecks.unitInterval("--warmup-ratio", warmupRatio);
        CliChecks.positive("--max-grad-norm", maxGradNorm);
        CliChecks.seeds(seeds);
        Device dev = device == null ? null : CliChecks.device(device);
        if (embeddedSample && t != GlueTask.SST2) {
            throw new IllegalArgumentException("--embedded-sample exists only for sst2, not " + t.id());
        }
        if (embeddedSample && dataDir != null) {
            throw new IllegalArgumentException("--embedded-sample and --data-dir exclude each other");
        }
        if (groupByLength && mixee != null && !"glue".equals(mixee.name())) {
            throw new IllegalArgumentException("--group-by-length exists only for glue, not " + mixee.name());
        }
        if (dataDir != null) {
            CliChecks.dataDir(t, dataDir);
        }
        CliChecks.model(model);
        return dev;
    }

    /**
     * Applies these options over a method's preset and checks the result without a model: the adapter fields (an
     * error names the field), the trainer settings and the group names.
     *
     * @param t the task
     * @param preset the method's preset
     * @param lr the learning rate, or {@code null} for the preset's
     * @param groupLrs group learning rates over the preset's (their names are checked against the method)
     * @return the hyperparameters of a run
     * @throws IllegalArgumentException if a value does not fit the method
     */
    public Hyperparameters hyperparameters(
            GlueTask t, Hyperparameters preset, Double lr, Map<String, Double> groupLrs) {
        Map<String, Object> fields = new LinkedHashMap<>();
        if (r != null) {
            fields.put("r", r);
        }
        adapterFields.forEach((k, v) -> fields.put(k, jsonScalar(v)));
        Map<String, Double> groups = new LinkedHashMap<>(preset.groupLearningRates());
        groups.putAll(groupLrs);
        Hyperparameters hp = new Hyperparameters(
                        preset.method(),
                        or(epochs, preset.epochs()),
                        or(batchSize, preset.batchSize()),
                        or(lr, preset.lr()),
                        or(weightDecay, preset.weightDecay()),
                        or(warmupRatio, preset.warmupRatio()),
                        or(maxGradNorm, preset.maxGradNorm()),
                        or(maxLength, preset.maxLength()),
                        or(targets, preset.targets()),
                        preset.adapterFields(),
                        groups)
                .withAdapterFields(fields);
        // fail fast, before any model is loaded: the adapter fields (naming the field), the trainer settings, the
        // group names
        AdapterConfig config = hp.adapterConfig(List.of("classifier"));
        hp.trainerSettings().selectionMetric(t.selectionMetric()).build();
        CliChecks.groupNames(hp, config, groupLrs.keySet());
        return hp;
    }

    /**
     * Returns a device, or the engine's default (a GPU when present) for {@code null}.
     *
     * @param checked what {@link #checkValues} returned
     * @return the device
     */
    public static Device orDefault(Device checked) {
        return checked != null ? checked : Engine.getInstance().defaultDevice();
    }

    /**
     * Returns where each seed's splits come from: {@code --embedded-sample}, {@code --data-dir} or the download
     * cache (downloaded now when missing), cut to {@code --max-train-samples}.
     *
     * @param t the task
     * @return the split source
     * @throws IOException if the task cannot be downloaded
     */
    public GlueRunner.SplitSource splits(GlueTask t) throws IOException {
        Path taskDir = embeddedSample
                ? null
                : dataDir != null ? dataDir : GlueDownload.fromEnvironment().taskDir(t);
        return seed -> {
            GlueData.Splits s = taskDir == null ? GlueData.embeddedSst2(seed) : GlueData.load(t, taskDir, seed);
            if (maxTrainSamples != null && maxTrainSamples < s.train().size()) {
                s = new GlueData.Splits(t, s.train().subList(0, maxTrainSamples), s.validation(), s.test());
            }
            return s;
        };
    }

    /**
     * Describes the data for records of a run: the embedded sample, the absolute {@code --data-dir}, or the
     * download cache.
     *
     * @return the description
     */
    public String dataDescription() {
        if (embeddedSample) {
            return "embedded SST-2 sample";
        }
        return dataDir != null ? dataDir.toAbsolutePath().normalize().toString() : "GLUE download cache";
    }

    /**
     * Returns the pretrained model of {@code --model}.
     *
     * @return the model source
     */
    public ModelSource modelSource() {
        return new ModelSource(model);
    }

    /**
     * Returns {@code --seeds}.
     *
     * @return the seeds
     */
    public List<Integer> seeds() {
        return List.copyOf(seeds);
    }

    /**
     * Returns {@code --eval-batch-size}.
     *
     * @return the evaluation batch size
     */
    public int evalBatchSize() {
        return evalBatchSize;
    }

    /**
     * Returns {@code --max-train-samples}.
     *
     * @return the training-set cut, or {@code null} for all examples
     */
    public Integer maxTrainSamples() {
        return maxTrainSamples;
    }

    /**
     * Returns {@code --group-by-length}: whether training batches group rows of similar length
     * ({@link GlueRunner#groupByLength}).
     *
     * @return whether to group by length (default false)
     */
    public boolean groupByLength() {
        return groupByLength;
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
