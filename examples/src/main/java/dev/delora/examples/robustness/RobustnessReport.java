package dev.delora.examples.robustness;

import dev.delora.djl.io.AtomicFiles;
import dev.delora.examples.glue.GlueMetrics;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The grid's tables: {@code results.md} (one row per method and learning rate: the per-seed metric, its mean ± sample
 * standard deviation over seeds, the mean final distance) and {@code results.json} (the same rows with exact values,
 * and every finished cell). The metric is GlueRunner's test metric at the best validation epoch, as each cell's
 * {@code cell.json} recorded it; nothing is recomputed here but the statistics over seeds.
 */
final class RobustnessReport {

    private RobustnessReport() {}

    /**
     * One method at one learning rate, over the seeds finished so far.
     *
     * @param method the method
     * @param multiplier the learning-rate multiplier
     * @param lr the learning rate
     * @param perSeed each seed's metric (a fraction), {@code null} when pending, diverged or no epoch beat 0
     * @param status each seed's state: {@code done}, {@code pending}, {@code diverged} or {@code no-epoch}
     * @param metricMean the mean over the seeds with a metric ({@code null} if none)
     * @param metricStd the sample standard deviation (0 for one seed, {@code null} if none)
     * @param metricN how many seeds have a metric
     * @param finalDistanceMean the mean final distance over the finished seeds with a finite one ({@code null} if
     *     none)
     */
    record Row(
            String method,
            double multiplier,
            double lr,
            Map<String, Double> perSeed,
            Map<String, String> status,
            Double metricMean,
            Double metricStd,
            int metricN,
            Double finalDistanceMean) {}

    /**
     * Returns the rows of the grid, in method then multiplier order.
     *
     * @param spec the grid
     * @param done the finished cells by cell id
     * @return the rows
     */
    static List<Row> rows(GridSpec spec, Map<String, CellResult> done) {
        List<Row> rows = new ArrayList<>();
        spec.methods().forEach((method, hp) -> {
            for (double x : spec.multipliers()) {
                Map<String, Double> perSeed = new LinkedHashMap<>();
                Map<String, String> status = new LinkedHashMap<>();
                List<Double> values = new ArrayList<>();
                List<Double> distances = new ArrayList<>();
                for (int seed : spec.seeds()) {
                    CellResult r = done.get(spec.cell(method, x, seed).id());
                    String key = Integer.toString(seed);
                    perSeed.put(key, r == null ? null : r.metricAtBest());
                    status.put(
                            key,
                            r == null
                                    ? "pending"
                                    : r.diverged() != null
                                            ? "diverged"
                                            : r.metricAtBest() == null ? "no-epoch" : "done");
                    if (r != null && r.metricAtBest() != null) {
                        values.add(r.metricAtBest());
                    }
                    if (r != null && r.finalDistance() != null) {
                        distances.add(r.finalDistance());
                    }
                }
                Double mean = mean(values);
                Double std = mean == null
                        ? null
                        : values.size() < 2
                                ? 0
                                : Math.sqrt(values.stream()
                                                .mapToDouble(v -> (v - mean) * (v - mean))
                                                .sum()
                                        / (values.size() - 1));
                rows.add(new Row(method, x, hp.lr() * x, perSeed, status, mean, std, values.size(), mean(distances)));
            }
        });
        return rows;
    }

    private static Double mean(List<Double> values) {
        return values.isEmpty()
                ? null
                : values.stream().mapToDouble(Double::doubleValue).average().getAsDouble();
    }

    /**
     * Writes {@code results.md} and {@code results.json}.
     *
     * @param output the grid's folder
     * @param spec the grid
     * @param done the finished cells by cell id
     * @throws IOException if writing fails
     */
    static void write(Path output, GridSpec spec, Map<String, CellResult> done) throws IOException {
        Files.createDirectories(output);
        List<Row> rows = rows(spec, done);
        int total = spec.cells().size();
        String metric = spec.task().selectionMetric();

        Map<String, Object> json = new LinkedHashMap<>();
        json.put("task", spec.task().id());
        json.put("model", spec.model());
        json.put("data", spec.data());
        json.put("metric", metric);
        json.put("metricNote", "test " + metric + " at the best validation epoch, a fraction (x100 in results.md)");
        json.put("distanceNote", "||W_fine-tuned - W_pretrained||_F over all adapted weights after the last step");
        json.put("cellsDone", done.size());
        json.put("cellsTotal", total);
        json.put("rows", rows);
        json.put("cells", new ArrayList<>(done.values()));
        AtomicFiles.writeString(output.resolve("results.json"), RobustnessGrid.GSON.toJson(json) + "\n");

        StringBuilder md = new StringBuilder();
        md.append("# Learning-rate robustness: ")
                .append(spec.task().id())
                .append(", ")
                .append(modelLabel(spec.model()))
                .append("\n\n");
        md.append("Each row is one method at a multiple of its base learning rate (the method's preset for the task, ")
                .append("or `--base-lr`; group learning rates such as DeLoRA's λ keep their preset). **")
                .append(metric)
                .append("** is the test ")
                .append(metric)
                .append(" at the best validation epoch (×100; GlueRunner's protocol), per seed and as mean ± sample")
                .append(" std over the seeds that have one. **distance** is ‖W_fine-tuned − W_pretrained‖_F over all")
                .append(" adapted weights after the last optimizer step, mean over seeds. Data: ")
                .append(spec.data())
                .append(". Cells done: ")
                .append(done.size())
                .append(" of ")
                .append(total)
                .append(".\n\n");
        md.append("| method | lr × | lr |");
        spec.seeds().forEach(s -> md.append(" seed ").append(s).append(" |"));
        md.append(' ').append(metric).append(" mean ± std | distance |\n|---|---:|---:|");
        spec.seeds().forEach(s -> md.append("---:|"));
        md.append("---:|---:|\n");
        for (Row r : rows) {
            md.append("| ")
                    .append(r.method())
                    .append(" | ")
                    .append(GridCell.multiplierText(r.multiplier()))
                    .append(" | ")
                    .append(GridCell.lrText(r.lr()))
                    .append(" |");
            r.perSeed()
                    .forEach((seed, v) -> md.append(' ')
                            .append(
                                    switch (r.status().get(seed)) {
                                        case "done" -> percent(v);
                                        case "diverged" -> "diverged";
                                        case "no-epoch" -> "–";
                                        default -> "…";
                                    })
                            .append(" |"));
            boolean started = r.status().values().stream().anyMatch(st -> !st.equals("pending"));
            md.append(' ')
                    .append(
                            r.metricN() > 0
                                    ? percent(r.metricMean()) + " ± " + percent(r.metricStd())
                                            + (r.metricN() < spec.seeds().size() ? " (n=" + r.metricN() + ")" : "")
                                    : started ? "–" : "…")
                    .append(" | ")
                    .append(
                            r.finalDistanceMean() != null
                                    ? distance(r.finalDistanceMean())
                                    : started ? "non-finite" : "…")
                    .append(" |\n");
        }
        md.append("\n…: not run yet. –: no epoch's validation ")
                .append(metric)
                .append(" beat 0, so nothing is reported (GlueRunner's protocol). diverged: the training loss became")
                .append(" non-finite (its message is in the cell's `cell.json`).\n\n")
                .append("![Fig. 2: metric and distance vs learning rate](fig2.png)\n\n")
                .append("![Fig. 3: distance vs optimizer step](fig3.png)\n");
        AtomicFiles.writeString(output.resolve("results.md"), md.toString());
    }

    /**
     * Formats a metric fraction as GlueRunner's {@code results.md} does: ×100 with two decimals.
     *
     * @param v the fraction
     * @return the text
     */
    static String percent(double v) {
        return String.format(Locale.ROOT, "%.2f", 100 * v);
    }

    static String distance(double v) {
        return String.format(Locale.ROOT, "%.4f", v);
    }

    /**
     * Names the model for titles: the embedded MiniLM, a folder's name, or the hub id.
     *
     * @param model the model as recorded in the grid
     * @return the label
     */
    static String modelLabel(String model) {
        if ("embedded".equals(model)) {
            return "all-MiniLM-L6-v2";
        }
        Path p = Path.of(model);
        return Files.isDirectory(p) && p.getFileName() != null ? p.getFileName().toString() : model;
    }

    /**
     * Names the y axis unit of a metric: accuracy and F1 in percent, correlations ×100.
     *
     * @param metric the metric name
     * @return the label, e.g. {@code test accuracy at best validation epoch (%)}
     */
    static String metricAxis(String metric) {
        boolean percent = metric.equals(GlueMetrics.ACCURACY) || metric.equals(GlueMetrics.F1);
        return "test " + metric.replace('_', ' ') + " at best validation epoch" + (percent ? " (%)" : " (×100)");
    }
}
