package dev.delora.examples.robustness;

import ai.djl.Device;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.delora.djl.io.AtomicFiles;
import dev.delora.examples.glue.GlueRunner;
import dev.delora.examples.glue.Hyperparameters;
import dev.delora.examples.glue.ModelSource;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Runs a robustness grid ({@link GridSpec}): one {@link GlueRunner} run per cell in its own folder
 * {@code cells/<method>-x<multiplier>-seed<seed>/}, with the distance log on. A cell's last act is writing
 * {@code cell.json} atomically; a rerun skips the cells whose {@code cell.json} is valid for them and recomputes the
 * others from scratch (their folder is emptied first). {@code grid.json} holds the settings of the first run; a rerun
 * with other settings is refused, naming the field. The tables and charts are rewritten after every computed cell.
 */
public final class RobustnessGrid {

    /** The file of a finished cell. */
    public static final String CELL_FILE = "cell.json";
    /** The grid's settings, written at the first run. */
    public static final String GRID_FILE = "grid.json";

    static final Gson GSON = new GsonBuilder()
            .setPrettyPrinting()
            .serializeNulls()
            .serializeSpecialFloatingPointValues()
            .create();

    private final GridSpec spec;
    private final Path output;
    private final PrintStream out;
    private int computed;
    private boolean settingsChecked;

    /**
     * Creates a grid.
     *
     * @param spec the grid
     * @param output the output folder
     * @param out where progress lines go (GlueRunner's too)
     */
    public RobustnessGrid(GridSpec spec, Path output, PrintStream out) {
        this.spec = spec;
        this.output = output;
        this.out = out;
    }

    /**
     * Returns the folder of a cell.
     *
     * @param output the grid's output folder
     * @param cell the cell
     * @return {@code <output>/cells/<id>}
     */
    public static Path cellDir(Path output, GridCell cell) {
        return output.resolve("cells").resolve(cell.id());
    }

    /**
     * Writes {@code grid.json} at the first run, or checks that it holds these settings. Methods new to the folder
     * join it; the lists of multipliers and seeds only pick cells and may change.
     *
     * @throws IllegalArgumentException naming the first field that differs
     * @throws IOException if the file cannot be read or written
     */
    public void checkSettings() throws IOException {
        settingsChecked = true;
        Path file = output.resolve(GRID_FILE);
        JsonObject now = JsonParser.parseString(GSON.toJson(spec.settings())).getAsJsonObject();
        if (!Files.exists(file)) {
            AtomicFiles.writeString(file, GSON.toJson(now) + "\n");
            return;
        }
        JsonObject before;
        try {
            before = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        } catch (JsonParseException | IllegalStateException e) {
            throw new IllegalArgumentException(
                    file + " is not a grid's settings (" + e.getMessage() + "); use another --output folder");
        }
        String diff = difference("", before, now);
        if (diff != null) {
            throw new IllegalArgumentException(file + " holds a grid with other settings: " + diff
                    + " (use another --output folder, or this grid's settings)");
        }
        JsonObject methods = before.getAsJsonObject("methods");
        boolean added = false;
        for (var e : now.getAsJsonObject("methods").entrySet()) {
            if (!methods.has(e.getKey())) {
                methods.add(e.getKey(), e.getValue());
                added = true;
            }
        }
        if (added) {
            AtomicFiles.writeString(file, GSON.toJson(before) + "\n");
        }
    }

    /** The first field that differs, as {@code path was X, now Y}; a method only one side has is no difference. */
    private static String difference(String path, JsonElement before, JsonElement now) {
        if (before != null && now != null && before.isJsonObject() && now.isJsonObject()) {
            JsonObject b = before.getAsJsonObject();
            JsonObject n = now.getAsJsonObject();
            List<String> keys = new ArrayList<>(n.keySet());
            b.keySet().stream().filter(k -> !n.has(k)).forEach(keys::add);
            for (String k : keys) {
                if (path.equals("methods.") && !(b.has(k) && n.has(k))) {
                    continue;
                }
                String d = difference(path + k + ".", b.get(k), n.get(k));
                if (d != null) {
                    return d;
                }
            }
            return null;
        }
        if (Objects.equals(before, now)) {
            return null;
        }
        return path.substring(0, path.length() - 1) + " was " + before + ", now " + now;
    }

    /**
     * Runs every cell without a valid {@code cell.json}, printing {@code [k/N] method lr seed} before each and its
     * result after, and rewrites the tables and charts after each computed cell.
     *
     * @param device the device
     * @param data the splits of a seed
     * @return the cells' results, in grid order
     * @throws IOException if reading data or writing results fails
     */
    public List<CellResult> run(Device device, GlueRunner.SplitSource data) throws IOException {
        if (!settingsChecked) {
            checkSettings();
        }
        computed = 0;
        List<GridCell> cells = spec.cells();
        Map<String, CellResult> done = new LinkedHashMap<>();
        boolean stale = true;
        for (int k = 0; k < cells.size(); k++) {
            GridCell cell = cells.get(k);
            out.printf(
                    Locale.ROOT,
                    "[%d/%d] %s lr %s (x%s) seed %d%n",
                    k + 1,
                    cells.size(),
                    cell.method(),
                    GridCell.lrText(cell.lr()),
                    GridCell.multiplierText(cell.multiplier()),
                    cell.seed());
            CellResult result = finished(cell);
            if (result != null) {
                out.printf(Locale.ROOT, "cell %s done, skipped%n", cell.id());
                done.put(cell.id(), result);
                stale = true;
                continue;
            }
            if (stale) {
                writeReports(done); // the finished cells show while this one runs
            }
            result = compute(cell, device, data);
            computed++;
            out.printf(Locale.ROOT, "[%d/%d] %s%n", k + 1, cells.size(), result.describe());
            done.put(cell.id(), result);
            writeReports(done);
            stale = false;
        }
        if (stale) {
            writeReports(done);
        }
        return List.copyOf(done.values());
    }

    /**
     * Returns how many cells the last {@link #run} computed (not skipped).
     *
     * @return the count
     */
    public int computed() {
        return computed;
    }

    private void writeReports(Map<String, CellResult> done) throws IOException {
        RobustnessReport.write(output, spec, done);
        RobustnessCharts.writeQuietly(output, spec, done, out);
    }

    /** The cell's result from its {@code cell.json} if that is valid for the cell, else {@code null}. */
    private CellResult finished(GridCell cell) {
        return read(cellDir(output, cell).resolve(CELL_FILE), cell, spec.task().selectionMetric());
    }

    /**
     * Reads a {@code cell.json}.
     *
     * @param file the file
     * @param cell the cell it should belong to
     * @param metric the task's selection metric
     * @return the result, or {@code null} when missing, unreadable or another cell's
     */
    static CellResult read(Path file, GridCell cell, String metric) {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        try {
            CellResult r = GSON.fromJson(Files.readString(file), CellResult.class);
            return r != null && r.matches(cell, metric) ? r : null;
        } catch (IOException | RuntimeException e) {
            return null; // unreadable: recompute
        }
    }

    private CellResult compute(GridCell cell, Device device, GlueRunner.SplitSource data) throws IOException {
        Path dir = cellDir(output, cell);
        deleteRecursively(dir); // what an interrupted run left
        Files.createDirectories(dir);
        Hyperparameters base = spec.methods().get(cell.method());
        Hyperparameters hp = new Hyperparameters(
                base.method(),
                base.epochs(),
                base.batchSize(),
                cell.lr(),
                base.weightDecay(),
                base.warmupRatio(),
                base.maxGradNorm(),
                base.maxLength(),
                base.targets(),
                base.adapterFields(),
                base.groupLearningRates());
        GlueRunner runner = new GlueRunner(
                        spec.task(), hp, new ModelSource(spec.model()), device, dir, spec.evalBatchSize(), false, out)
                .trackDistance(spec.trackDistance());
        String metric = spec.task().selectionMetric();
        long start = System.nanoTime();
        Double value = null;
        int bestEpoch = 0;
        String diverged = null;
        try {
            GlueRunner.RunResult run = runner.runAll(List.of(cell.seed()), data).get(0);
            value = run.testAtBest().get(metric);
            bestEpoch = run.bestEpoch();
        } catch (IllegalStateException e) {
            // AdapterTrainer stops on a non-finite loss: at a high rate that is a result, not a failure
            if (e.getMessage() == null || !e.getMessage().contains("training diverged")) {
                throw e;
            }
            diverged = e.getMessage();
            out.println("training diverged: " + diverged);
        }
        CellResult result = new CellResult(
                cell.method(),
                cell.multiplier(),
                cell.lr(),
                cell.seed(),
                metric,
                value != null && Double.isFinite(value) ? value : null,
                bestEpoch,
                DistanceLog.lastTotal(GlueRunner.distanceLog(dir, cell.seed())),
                (System.nanoTime() - start) / 1e9,
                diverged);
        AtomicFiles.writeString(dir.resolve(CELL_FILE), GSON.toJson(result) + "\n");
        return result;
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }
}
