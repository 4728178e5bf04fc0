package dev.delora.benchmarks;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Combines result files of repeated runs (both sides' JSON schema) into one: every number becomes the median of
 * the runs that have it, anything else is taken from the first run that has it. On a shared machine, alternating
 * our runs with PEFT's and taking medians keeps a slow minute from landing on one side only. Older method keys are
 * read under their current labels ({@code delora-paper} as {@code delora:init_weights=paper}).
 */
final class JsonMedian {

    private JsonMedian() {}

    /**
     * Reads and combines result files.
     *
     * @param files one or more JSON files
     * @return the combined object (the file itself when there is one)
     * @throws IOException if a file cannot be read
     */
    static JsonObject read(List<Path> files) throws IOException {
        List<JsonObject> runs = new ArrayList<>();
        for (Path f : files) {
            runs.add(canonicalKeys(JsonParser.parseString(Files.readString(f)).getAsJsonObject()));
        }
        return combine(runs);
    }

    /**
     * Renames older method keys to their canonical labels ({@link MethodSpec#canonicalKey}), at any depth, so that
     * files from before and after the spec syntax combine.
     *
     * @param o a result object
     * @return the object with its keys renamed (a copy), in the same order
     */
    static JsonObject canonicalKeys(JsonObject o) {
        JsonObject out = new JsonObject();
        for (Map.Entry<String, JsonElement> e : o.entrySet()) {
            JsonElement v = e.getValue();
            out.add(MethodSpec.canonicalKey(e.getKey()), v.isJsonObject() ? canonicalKeys(v.getAsJsonObject()) : v);
        }
        return out;
    }

    static JsonObject combine(List<JsonObject> runs) {
        Set<String> keys = new LinkedHashSet<>();
        runs.forEach(r -> keys.addAll(r.keySet()));
        JsonObject out = new JsonObject();
        for (String k : keys) {
            List<JsonElement> values =
                    runs.stream().filter(r -> r.has(k)).map(r -> r.get(k)).toList();
            JsonElement first = values.get(0);
            if (first.isJsonObject()) {
                out.add(
                        k,
                        combine(values.stream()
                                .filter(JsonElement::isJsonObject)
                                .map(JsonElement::getAsJsonObject)
                                .toList()));
            } else if (first.isJsonPrimitive() && first.getAsJsonPrimitive().isNumber()) {
                double[] xs = values.stream()
                        .filter(v ->
                                v.isJsonPrimitive() && v.getAsJsonPrimitive().isNumber())
                        .mapToDouble(JsonElement::getAsDouble)
                        .toArray();
                out.add(k, new JsonPrimitive(Timing.median(xs)));
            } else {
                out.add(k, first);
            }
        }
        return out;
    }
}
