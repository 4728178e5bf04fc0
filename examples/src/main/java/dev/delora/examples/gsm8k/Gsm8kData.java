package dev.delora.examples.gsm8k;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Reads GSM8K's JSON-lines files ({@code {"question": …, "answer": …}} per line) strictly: a line that is not one JSON
 * object with exactly those two string fields, or an answer without its final {@code #### N}, is an error naming the
 * file and line.
 */
public final class Gsm8kData {

    private static final String SAMPLE = "/dev/delora/examples/data/gsm8k/";

    private Gsm8kData() {}

    /**
     * Reads a file of the authors' layout, e.g. {@code grade_school_math/data/train.jsonl}.
     *
     * @param file the JSON-lines file
     * @return the problems in file order
     * @throws IOException if the file cannot be read
     * @throws IllegalArgumentException naming the file and line of a malformed problem
     */
    public static List<Gsm8kProblem> read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString());
        }
    }

    /**
     * Reads the sample shipped with the examples: the first 256 training and 128 test problems.
     *
     * @param split {@code train} or {@code test}
     * @return the problems
     * @throws IOException if the resource cannot be read
     * @throws IllegalArgumentException for another split name
     */
    public static List<Gsm8kProblem> embedded(String split) throws IOException {
        if (!Set.of("train", "test").contains(split)) {
            throw new IllegalArgumentException("GSM8K split must be train or test, got '" + split + "'");
        }
        String name = SAMPLE + split + ".jsonl";
        try (InputStream in = Gsm8kData.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IOException("resource " + name + " is missing from the examples jar");
            }
            return read(in, "classpath:" + name);
        }
    }

    static List<Gsm8kProblem> read(InputStream in, String source) throws IOException {
        List<Gsm8kProblem> out = new ArrayList<>();
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
        String line;
        int n = 0;
        while ((line = reader.readLine()) != null) {
            n++;
            if (line.isBlank()) {
                continue;
            }
            try {
                out.add(problem(line));
            } catch (IllegalArgumentException | JsonParseException | IllegalStateException e) {
                throw new IllegalArgumentException(source + ":" + n + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    private static Gsm8kProblem problem(String line) {
        JsonElement e;
        try (JsonReader r = new JsonReader(new StringReader(line))) {
            r.setStrictness(Strictness.STRICT);
            e = JsonParser.parseReader(r);
            if (r.peek() != JsonToken.END_DOCUMENT) {
                throw new IllegalArgumentException("data after the JSON object");
            }
        } catch (IOException ex) {
            // a string reader fails only on malformed JSON
            throw new IllegalArgumentException("not valid JSON: " + ex.getMessage(), ex);
        }
        if (!e.isJsonObject()) {
            throw new IllegalArgumentException("expected a JSON object with 'question' and 'answer'");
        }
        JsonObject o = e.getAsJsonObject();
        if (!o.keySet().equals(Set.of("question", "answer"))) {
            throw new IllegalArgumentException("expected exactly the fields [question, answer], got " + o.keySet());
        }
        return new Gsm8kProblem(string(o, "question"), string(o, "answer"));
    }

    private static String string(JsonObject o, String field) {
        JsonElement v = o.get(field);
        if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
            throw new IllegalArgumentException("field '" + field + "' must be a string, got " + v);
        }
        return v.getAsString();
    }
}
