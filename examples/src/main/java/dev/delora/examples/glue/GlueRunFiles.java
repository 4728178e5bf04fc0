package dev.delora.examples.glue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import dev.delora.djl.io.AtomicFiles;
import dev.delora.djl.io.Safetensors;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a GLUE run writes: the per-seed log, {@code summary.json}, {@code results.md} (mean ± std across seeds) and,
 * next to an export, the Java logits that {@code parity/check_java_export.py} compares with transformers'.
 */
final class GlueRunFiles {

    /** How many test rows {@code java_logits.safetensors} holds. */
    static final int CHECK_ROWS = 16;

    private GlueRunFiles() {}

    /**
     * Writes {@code java_logits.safetensors} into an exported folder: {@code logits} [N, num_labels] of the model on
     * the first {@link #CHECK_ROWS} test rows and their {@code input_ids}, {@code attention_mask},
     * {@code token_type_ids} [N, T] (int64), the file {@code check_java_export.py} reads.
     */
    static void writeJavaLogits(Path dir, NDManager manager, Block block, EncodedExamples test) throws IOException {
        int n = Math.min(CHECK_ROWS, test.size());
        if (n == 0) {
            return;
        }
        int[] rows = java.util.stream.IntStream.range(0, n).toArray();
        try (NDManager m = manager.newSubManager()) {
            NDList in = test.inputs(m, rows);
            NDArray logits =
                    block.forward(new ParameterStore(m, false), in, false).head();
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            tensors.put("logits", logits);
            tensors.put("input_ids", in.get(0));
            tensors.put("attention_mask", in.get(1));
            tensors.put("token_type_ids", in.get(2));
            Safetensors.write(dir.resolve("java_logits.safetensors"), tensors, Map.of());
        }
    }

    static void writeRunLog(Path output, GlueRunner.RunResult run) throws IOException {
        StringBuilder sb = new StringBuilder("epoch\tloss\tvalidation\ttest\n");
        for (GlueRunner.EpochLog e : run.epochs()) {
            sb.append(e.epoch())
                    .append('\t')
                    .append(String.format(Locale.ROOT, "%.5f", e.meanLoss()))
                    .append('\t')
                    .append(GlueRunner.format(e.validation()))
                    .append('\t')
                    .append(GlueRunner.format(e.test()))
                    .append('\n');
        }
        AtomicFiles.writeString(output.resolve("seed-" + run.seed() + ".log"), sb.toString());
    }

    private static final Gson GSON = new GsonBuilder()
            .setPrettyPrinting()
            .serializeSpecialFloatingPointValues()
            .create();

    static void writeSummary(
            Path output,
            GlueTask task,
            ModelSource source,
            Hyperparameters hp,
            boolean groupByLength,
            List<GlueRunner.RunResult> results)
            throws IOException {
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("task", task.id());
        summary.put("model", source.toString());
        summary.put("hyperparameters", hyperparameters(hp, groupByLength));
        summary.put("runs", results);
        Map<String, double[]> stats = stats(results);
        Map<String, Map<String, Double>> agg = new LinkedHashMap<>();
        stats.forEach((k, v) -> {
            Map<String, Double> meanStd = new LinkedHashMap<>(); // Map.of's order changes from one JVM to the next
            meanStd.put("mean", v[0]);
            meanStd.put("std", v[1]);
            agg.put(k, meanStd);
        });
        summary.put("test_at_best_validation", agg);
        AtomicFiles.writeString(output.resolve("summary.json"), GSON.toJson(summary) + "\n");

        StringBuilder md = new StringBuilder();
        md.append("| task | method | seeds |");
        stats.keySet().forEach(k -> md.append(' ').append(k).append(" (test) |"));
        md.append("\n|---|---|---|");
        stats.keySet().forEach(k -> md.append("---|"));
        md.append("\n| ")
                .append(task.id())
                .append(" | ")
                .append(hp.method())
                .append(" | ")
                .append(results.stream().map(r -> Integer.toString(r.seed())).toList())
                .append(" |");
        stats.values().forEach(v -> md.append(String.format(Locale.ROOT, " %.2f ± %.2f |", 100 * v[0], 100 * v[1])));
        md.append('\n');
        AtomicFiles.writeString(output.resolve("results.md"), md.toString());
    }

    /** The hyperparameters' fields, then the runner's batching choice (not a field: grids compare the fields). */
    static JsonObject hyperparameters(Hyperparameters hp, boolean groupByLength) {
        JsonObject json = GSON.toJsonTree(hp).getAsJsonObject();
        json.addProperty("groupByLength", groupByLength);
        return json;
    }

    /** Mean and sample standard deviation of each test metric at the best validation epoch, across seeds. */
    static Map<String, double[]> stats(List<GlueRunner.RunResult> results) {
        Map<String, List<Double>> values = new LinkedHashMap<>();
        for (GlueRunner.RunResult r : results) {
            r.testAtBest()
                    .forEach((k, v) ->
                            values.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
        }
        Map<String, double[]> out = new LinkedHashMap<>();
        values.forEach((k, list) -> {
            double mean =
                    list.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
            double var = list.size() < 2
                    ? 0
                    : list.stream().mapToDouble(v -> (v - mean) * (v - mean)).sum() / (list.size() - 1);
            out.put(k, new double[] {mean, Math.sqrt(var)});
        });
        return out;
    }
}
