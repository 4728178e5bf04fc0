package dev.delora.examples.robustness;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reads GlueRunner's distance log ({@code seed-<seed>-distance.jsonl}, one JSON object per line). */
final class DistanceLog {

    private DistanceLog() {}

    /**
     * One line of a distance log.
     *
     * @param step the optimizer step
     * @param total {@code √Σ ‖W_eff − W_0‖_F²} over the adapted modules, or {@code null} if non-finite
     */
    record Point(int step, Double total) {}

    /**
     * Reads the steps and totals of a log.
     *
     * @param log the JSON-lines file
     * @return the points, empty if there is no file
     * @throws IOException if the file cannot be read
     */
    static List<Point> read(Path log) throws IOException {
        if (!Files.isRegularFile(log)) {
            return List.of();
        }
        List<Point> points = new ArrayList<>();
        for (String line : Files.readAllLines(log)) {
            if (line.isBlank()) {
                continue;
            }
            JsonObject o = JsonParser.parseString(line).getAsJsonObject();
            JsonElement t = o.get("total");
            points.add(new Point(o.get("step").getAsInt(), t == null || t.isJsonNull() ? null : t.getAsDouble()));
        }
        return points;
    }

    /**
     * Returns the {@code total} of a log's last line.
     *
     * @param log the JSON-lines file
     * @return the value, or {@code null} when missing or non-finite
     * @throws IOException if the file cannot be read
     */
    static Double lastTotal(Path log) throws IOException {
        List<Point> points = read(log);
        return points.isEmpty() ? null : points.get(points.size() - 1).total();
    }
}
