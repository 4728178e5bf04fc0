package dev.delora.djl.train;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.djl.peft.UpdateNorms;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Records during training how far an adapter has moved the weights: every {@code every} optimizer steps one JSON line
 * {@code {"step": 200, "total": 1.73, "modules": {"<path>": 0.21, …}, "scalars": {"<path>": {"delora_lambda": 4.1}}}}
 * ({@link UpdateNorms}: {@code ‖W_eff − W‖_F} per module, {@code total} = {@code √Σ} over modules, and each
 * module's one-element parameters such as DeLoRA's λ). A non-finite value (a diverged run) is written as
 * {@code null}. Add it to a trainer with {@link AdapterTrainer#afterStep} and call {@link #record(int)} for step 0
 * before training; lines are flushed as they are written, so a reader sees whole lines of a live run.
 */
public final class UpdateNormLog implements TrainingHooks.StepHook, AutoCloseable {

    private static final Gson GSON = new GsonBuilder().serializeNulls().create();

    private final AdaptedModel model;
    private final String adapterName;
    private final int every;
    private final Predicate<String> modules;
    private final Path file;
    private final BufferedWriter writer;
    private int lastStep = -1;

    private UpdateNormLog(AdaptedModel model, String adapterName, Path file, int every, Predicate<String> modules)
            throws IOException {
        this.model = model;
        this.adapterName = adapterName;
        this.every = every;
        this.modules = modules;
        this.file = file;
        this.writer = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
    }

    /**
     * Creates (or truncates) the log file.
     *
     * @param model the model
     * @param adapterName the adapter to measure
     * @param file the JSON-lines file
     * @param every record after every this many optimizer steps
     * @param modules which module paths to include (e.g. {@code p -> true})
     * @return the log (close it)
     * @throws IOException if the file cannot be created
     * @throws IllegalArgumentException if {@code every < 1} or there is no such adapter
     */
    public static UpdateNormLog create(
            AdaptedModel model, String adapterName, Path file, int every, Predicate<String> modules)
            throws IOException {
        if (every < 1) {
            throw new IllegalArgumentException("the distance interval must be >= 1 step, got " + every);
        }
        if (!model.adapters().containsKey(adapterName)) {
            throw new IllegalArgumentException("No adapter named '" + adapterName + "'; adapters: "
                    + model.adapters().keySet());
        }
        return new UpdateNormLog(model, adapterName, file, every, modules);
    }

    /**
     * Returns the file written.
     *
     * @return the path
     */
    public Path file() {
        return file;
    }

    @Override
    public void afterStep(int step, double lrFactor) {
        if ((step + 1) % every == 0) {
            record(step + 1);
        }
    }

    /**
     * Writes one line for the current weights, unless this step was already written.
     *
     * @param step the number of optimizer steps taken so far
     * @throws UncheckedIOException if writing fails
     */
    public synchronized void record(int step) {
        if (step == lastStep) {
            return;
        }
        Map<String, Double> norms = UpdateNorms.of(model, adapterName, modules);
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("step", step);
        line.put("total", finite(UpdateNorms.total(norms)));
        Map<String, Object> perModule = new LinkedHashMap<>();
        norms.forEach((k, v) -> perModule.put(k, finite(v)));
        line.put("modules", perModule);
        Map<String, Object> scalars = new LinkedHashMap<>();
        UpdateNorms.scalars(model, adapterName, modules).forEach((path, values) -> {
            Map<String, Object> m = new LinkedHashMap<>();
            values.forEach((k, v) -> m.put(k, finite(v)));
            scalars.put(path, m);
        });
        line.put("scalars", scalars);
        try {
            writer.write(GSON.toJson(line));
            writer.write('\n');
            writer.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write " + file, e);
        }
        lastStep = step;
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    @Override
    public synchronized void close() throws IOException {
        writer.close();
    }
}
