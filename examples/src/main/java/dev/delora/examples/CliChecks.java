package dev.delora.examples;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.core.method.AdapterMethods;
import dev.delora.core.method.TrainingContext;
import dev.delora.core.method.TrainingExtension;
import dev.delora.djl.hf.HfHub;
import dev.delora.djl.io.SafetensorsCheckpoint;
import dev.delora.examples.glue.GlueData;
import dev.delora.examples.glue.GlueTask;
import dev.delora.examples.glue.Hyperparameters;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks of command-line values, made before any model or data is loaded. Each failure is an
 * {@link IllegalArgumentException} whose message names the option, the value and what is expected, e.g.
 * {@code --epochs must be >= 1, got 0}. Public for the commands of other packages (e.g. {@code robustness}).
 */
public final class CliChecks {

    private static final Pattern DEVICE = Pattern.compile("cpu|gpu(?::?(\\d+))?");
    /** A Hugging Face model id: {@code name} or {@code org/name} (as {@link HfHub} accepts). */
    private static final Pattern HUB_ID = Pattern.compile("[\\w-][\\w.-]*(/[\\w-][\\w.-]*)?");

    private static final String PROBE_MODULE = "probe";

    private CliChecks() {}

    /**
     * Runs a parse whose {@link IllegalArgumentException} then names the option.
     *
     * @param option the option, e.g. {@code --task}
     * @param parse the parse
     * @param <T> the parsed type
     * @return the parsed value
     */
    public static <T> T named(String option, Supplier<T> parse) {
        try {
            return parse.get();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(option + ": " + e.getMessage(), e);
        }
    }

    /**
     * Rejects a value below a minimum.
     *
     * @param option the option
     * @param value the value, or {@code null} when not given (accepted)
     * @param min the smallest value accepted
     */
    public static void atLeast(String option, Integer value, int min) {
        if (value != null && value < min) {
            throw expected(option, ">= " + min, value);
        }
    }

    /**
     * Rejects a value that is not finite and {@code > 0}.
     *
     * @param option the option
     * @param value the value, or {@code null} when not given (accepted)
     */
    public static void positive(String option, Double value) {
        if (value != null && (!(value > 0) || value.isInfinite())) {
            throw expected(option, value.isInfinite() ? "finite" : "> 0", value);
        }
    }

    static void nonNegative(String option, Double value) {
        if (value != null && (!(value >= 0) || value.isInfinite())) {
            throw expected(option, value.isInfinite() ? "finite" : ">= 0", value);
        }
    }

    static void unitInterval(String option, Double value) {
        if (value != null && !(value >= 0 && value <= 1)) {
            throw expected(option, "in [0, 1]", value);
        }
    }

    static void seeds(List<Integer> seeds) {
        if (seeds == null || seeds.isEmpty()) {
            throw new IllegalArgumentException("--seeds must list at least one seed, got none");
        }
        Set<Integer> seen = new HashSet<>();
        for (Integer seed : seeds) {
            if (seed == null || seed < 0) {
                throw expected("--seeds", ">= 0 (numpy's RandomState seeds the splits)", seed);
            }
            if (!seen.add(seed)) {
                throw new IllegalArgumentException("--seeds must list distinct seeds, got " + seed + " twice");
            }
        }
    }

    static void groupLearningRateValues(Map<String, Double> rates) {
        rates.forEach((group, lr) -> nonNegative("--group-lr " + group, lr));
    }

    /**
     * Parses {@code cpu}, {@code gpu}, {@code gpu:N} (or DJL's {@code gpuN}) and checks that the GPU exists.
     *
     * @param spec the option value
     * @return the device
     */
    static Device device(String spec) {
        Matcher m = DEVICE.matcher(spec.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw expected("--device", "cpu, gpu or gpu:N", "'" + spec + "'");
        }
        if (m.group().equals("cpu")) {
            return Device.cpu();
        }
        int id;
        try {
            id = m.group(1) == null ? 0 : Integer.parseInt(m.group(1));
        } catch (NumberFormatException e) {
            throw expected("--device", "cpu, gpu or gpu:N", "'" + spec + "'");
        }
        Engine engine = Engine.getInstance();
        int gpus = engine.getGpuCount();
        if (id >= gpus) {
            throw new IllegalArgumentException("--device " + spec + ": "
                    + (gpus == 0
                            ? "no GPU is visible to the " + engine.getEngineName() + " engine; use --device cpu"
                            : "the " + engine.getEngineName() + " engine sees " + gpus + " GPU(s), gpu:0 to gpu:"
                                    + (gpus - 1)));
        }
        return Device.gpu(id);
    }

    /**
     * Checks {@code --model}: {@code embedded}, a Hugging Face model folder with its files, or a hub id.
     *
     * @param spec the option value
     */
    static void model(String spec) {
        if ("embedded".equals(spec)) {
            return;
        }
        folderOrHubId(
                spec, "expected 'embedded', a Hugging Face model folder or a hub id such as FacebookAI/roberta-base");
    }

    /**
     * Checks that {@code --model} is a complete Hugging Face model folder ({@link HfHub#REQUIRED} and the safetensors
     * weights) or a hub id, whose files are then looked up in the hub cache.
     *
     * @param spec the option value
     * @param expected what the option accepts, for the message
     */
    public static void folderOrHubId(String spec, String expected) {
        Path folder;
        try {
            folder = Path.of(spec);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException("--model '" + spec + "' is not a valid path (" + expected + ")", e);
        }
        if (Files.isDirectory(folder)) {
            List<String> missing = new ArrayList<>();
            for (String name : HfHub.REQUIRED) {
                if (!Files.isRegularFile(folder.resolve(name))) {
                    missing.add(name);
                }
            }
            if (!Files.isRegularFile(folder.resolve(SafetensorsCheckpoint.SINGLE))
                    && !Files.isRegularFile(folder.resolve(SafetensorsCheckpoint.INDEX))) {
                missing.add(SafetensorsCheckpoint.SINGLE + " (or " + SafetensorsCheckpoint.INDEX + ")");
            }
            if (!missing.isEmpty()) {
                throw new IllegalArgumentException("--model " + spec + ": the folder lacks "
                        + String.join(", ", missing) + " (expected a Hugging Face model folder)");
            }
        } else if (Files.exists(folder)) {
            throw new IllegalArgumentException("--model " + spec + " is a file (" + expected + ")");
        } else if (!HUB_ID.matcher(spec).matches() || spec.contains("..")) {
            throw new IllegalArgumentException("--model " + spec + ": no such folder (" + expected + ")");
        }
    }

    /**
     * Checks that {@code --data-dir} is a folder holding the task's files (without reading them).
     *
     * @param task the task
     * @param dir the option value
     */
    static void dataDir(GlueTask task, Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(
                    "--data-dir " + dir + ": " + (Files.exists(dir) ? "not a folder" : "no such folder")
                            + " (expected the task's GLUE folder, e.g. glue_data/" + task.directoryName() + ")");
        }
        try {
            GlueData.checkTaskDir(task, dir);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("--data-dir " + dir + ": " + e.getReason(), e);
        }
    }

    /**
     * Rejects an {@code --output} that is a file.
     *
     * @param output the option value, or {@code null} when not given (accepted)
     */
    public static void output(Path output) {
        if (output != null && Files.exists(output) && !Files.isDirectory(output)) {
            throw new IllegalArgumentException("--output " + output + " is a file, expected a folder");
        }
    }

    /**
     * Rejects a {@code --group-lr} whose group the method does not define, as training would after loading the model.
     * The groups are found by starting the method's training extension without a model: first with no adapters, then
     * (when that does not name every given group, as SoRA asks for its gate group only when it has gates) with one
     * adapter on a small random weight. When even that cannot run, the names are left to training to check.
     *
     * @param hp the hyperparameters (their group learning rates include the given ones)
     * @param config the adapter config
     * @param given the group names given on the command line
     */
    static void groupNames(Hyperparameters hp, AdapterConfig config, Collection<String> given) {
        if (given.isEmpty() || definedGroups(hp, config, Map.of()).containsAll(given)) {
            return;
        }
        Set<String> known;
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            int rank = config.rankPattern().values().stream().reduce(config.r(), Math::max);
            long n = Math.max(16L, 2L * rank);
            NDArray weight = manager.randomNormal(new Shape(n, n));
            LinearAdapter adapter = config.create(PROBE_MODULE, weight, manager);
            known = definedGroups(hp, config, Map.of(PROBE_MODULE, adapter));
        } catch (RuntimeException | LinkageError e) {
            return; // no engine or no probe: MethodTraining checks the names at training time
        }
        for (String group : given) {
            if (!known.contains(group)) {
                throw new IllegalArgumentException("--group-lr " + group + ": " + hp.method()
                        + " defines no parameter group '" + group + "' ("
                        + (known.isEmpty() ? "it defines none" : "its groups: " + String.join(", ", known)) + ")");
            }
        }
    }

    private static Set<String> definedGroups(
            Hyperparameters hp, AdapterConfig config, Map<String, LinearAdapter> adapters) {
        TrainingContext context =
                new TrainingContext("default", adapters, hp.lr(), hp.weightDecay(), hp.groupLearningRates());
        try (TrainingExtension extension = AdapterMethods.of(config).training(config, context)) {
            return context.groupsDefined(extension);
        }
    }

    private static IllegalArgumentException expected(String option, String expected, Object got) {
        return new IllegalArgumentException(option + " must be " + expected + ", got " + got);
    }
}
