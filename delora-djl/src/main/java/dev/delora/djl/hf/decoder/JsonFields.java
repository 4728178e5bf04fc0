package dev.delora.djl.hf.decoder;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Strict reading of a JSON object's fields: a present field of the wrong type is an error naming the file and the
 * field (with its parent's name for nested objects, e.g. {@code rope_scaling.factor}); JSON {@code null} counts as
 * absent, as transformers treats {@code None}.
 */
final class JsonFields {

    private final JsonObject object;
    private final String source;
    private final String prefix;

    JsonFields(JsonObject object, String source, String prefix) {
        this.object = object;
        this.source = source;
        this.prefix = prefix;
    }

    /** Parses a file that must hold one JSON object. */
    static JsonObject read(Path file) throws IOException {
        try {
            JsonElement e = JsonParser.parseString(Files.readString(file));
            if (!e.isJsonObject()) {
                throw new IOException(file + ": not a JSON object");
            }
            return e.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new IOException(file + ": not valid JSON (" + e.getMessage() + ")", e);
        }
    }

    String source() {
        return source;
    }

    String name(String key) {
        return prefix + key;
    }

    IllegalArgumentException error(String key, String message) {
        return new IllegalArgumentException(source + ": " + name(key) + " " + message);
    }

    /** Whether the field is present and not null. */
    boolean has(String key) {
        JsonElement e = object.get(key);
        return e != null && !e.isJsonNull();
    }

    private JsonPrimitive primitive(String key, String expected) {
        JsonElement e = object.get(key);
        if (!e.isJsonPrimitive()) {
            throw error(key, "is " + shown(e) + "; expected " + expected);
        }
        return e.getAsJsonPrimitive();
    }

    int integer(String key, Integer dflt) {
        if (!has(key)) {
            if (dflt == null) {
                throw error(key, "is missing; it is required");
            }
            return dflt;
        }
        return toInt(key, primitive(key, "an integer"));
    }

    private int toInt(String key, JsonPrimitive p) {
        if (!p.isNumber()) {
            throw error(key, "is " + p + "; expected an integer");
        }
        try {
            return new BigDecimal(p.getAsString()).intValueExact();
        } catch (ArithmeticException | NumberFormatException e) {
            throw error(key, "is " + p + "; expected an integer");
        }
    }

    double number(String key, Double dflt) {
        if (!has(key)) {
            if (dflt == null) {
                throw error(key, "is missing; it is required");
            }
            return dflt;
        }
        JsonPrimitive p = primitive(key, "a number");
        if (!p.isNumber()) {
            throw error(key, "is " + p + "; expected a number");
        }
        double v = p.getAsDouble();
        if (!Double.isFinite(v)) {
            throw error(key, "is " + p + "; expected a finite number");
        }
        return v;
    }

    boolean bool(String key, boolean dflt) {
        if (!has(key)) {
            return dflt;
        }
        JsonPrimitive p = primitive(key, "true or false");
        if (!p.isBoolean()) {
            throw error(key, "is " + p + "; expected true or false");
        }
        return p.getAsBoolean();
    }

    String string(String key, String dflt) {
        if (!has(key)) {
            return dflt;
        }
        JsonPrimitive p = primitive(key, "a string");
        if (!p.isString()) {
            throw error(key, "is " + p + "; expected a string");
        }
        return p.getAsString();
    }

    /** A nested object, or null when absent. */
    JsonFields object(String key) {
        if (!has(key)) {
            return null;
        }
        JsonElement e = object.get(key);
        if (!e.isJsonObject()) {
            throw error(key, "is " + shown(e) + "; expected an object");
        }
        return new JsonFields(e.getAsJsonObject(), source, name(key) + ".");
    }

    /** A list of strings (or null when absent). */
    List<String> strings(String key) {
        if (!has(key)) {
            return null;
        }
        JsonElement e = object.get(key);
        if (!e.isJsonArray()) {
            throw error(key, "is " + shown(e) + "; expected a list of strings");
        }
        List<String> out = new ArrayList<>();
        for (JsonElement x : e.getAsJsonArray()) {
            if (!x.isJsonPrimitive() || !x.getAsJsonPrimitive().isString()) {
                throw error(key, "holds " + shown(x) + "; expected a list of strings");
            }
            out.add(x.getAsString());
        }
        return out;
    }

    /** An integer or a list of integers (transformers' {@code eos_token_id}); empty when absent. */
    List<Integer> integers(String key) {
        List<Integer> out = new ArrayList<>();
        if (!has(key)) {
            return out;
        }
        JsonElement e = object.get(key);
        if (e.isJsonArray()) {
            JsonArray a = e.getAsJsonArray();
            for (JsonElement x : a) {
                if (!x.isJsonPrimitive()) {
                    throw error(key, "holds " + shown(x) + "; expected integers");
                }
                out.add(toInt(key, x.getAsJsonPrimitive()));
            }
        } else {
            out.add(integer(key, null));
        }
        return out;
    }

    private static String shown(JsonElement e) {
        String s = e.toString();
        return s.length() > 60 ? s.substring(0, 57) + "..." : s;
    }
}
