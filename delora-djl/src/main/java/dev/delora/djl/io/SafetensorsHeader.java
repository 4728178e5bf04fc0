package dev.delora.djl.io;

import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The JSON header of a safetensors file, parsed and validated as the reference implementation does (the rules from
 * {@code InvalidHeaderDeserialization} on, listed in {@link Safetensors}). Package-private: {@link Safetensors.Reader}
 * checks the bytes before it, this class the JSON and the offsets.
 */
final class SafetensorsHeader {

    /** How much text from a file a message quotes. */
    private static final int CUT = 80;

    private final Path file;
    /** The tensors, in header order. */
    final Map<String, Safetensors.TensorInfo> tensors;
    /** The {@code __metadata__} entries. */
    final Map<String, String> metadata;

    /**
     * Parses and validates a header.
     *
     * @param file the file, for messages
     * @param json the header text (valid UTF-8 that begins with '{')
     * @param dataLen the length of the data section: file size - 8 - header length
     * @throws Safetensors.SafetensorsException if a rule is broken
     */
    SafetensorsHeader(Path file, String json, long dataLen) {
        this.file = file;
        Map<String, String> meta = new LinkedHashMap<>();
        this.tensors = Collections.unmodifiableMap(parse(json, meta));
        this.metadata = Collections.unmodifiableMap(meta);
        validate(dataLen);
    }

    /** Cuts untrusted text for a message: at most 80 characters, then its length. */
    static String cut(String s) {
        if (s.length() <= CUT) {
            return s;
        }
        int n = Character.isHighSurrogate(s.charAt(CUT - 1)) ? CUT - 1 : CUT;
        return s.substring(0, n) + "… (" + s.length() + " chars)";
    }

    /**
     * Parses strict JSON (RFC 8259), nested at most 128 deep, nothing but whitespace after the value; the exception's
     * message is cut.
     */
    static JsonElement parseStrict(String json) {
        JsonReader reader = new JsonReader(new StringReader(json));
        reader.setStrictness(Strictness.STRICT);
        reader.setNestingLimit(128); // serde_json's recursion limit
        try {
            JsonElement e = JsonParser.parseReader(reader); // keeps STRICT
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw new IOException("more JSON");
            }
            return e;
        } catch (IOException | JsonParseException e) {
            Throwable c = e;
            while (c.getCause() != null && c.getCause() != c) {
                c = c.getCause();
            }
            // Gson's text, less its advice to programmers and the path (which quotes names from the file)
            String why = String.valueOf(c.getMessage())
                    .lines()
                    .findFirst()
                    .orElse("")
                    .replace(
                            "Use JsonReader.setStrictness(Strictness.LENIENT) to accept malformed JSON",
                            "malformed JSON (no comments, single quotes, unquoted names or NaN)")
                    .replaceFirst(" path \\$.*$", "");
            if (e instanceof IOException) {
                Matcher at = Pattern.compile(" at line \\d+ column \\d+").matcher(why);
                why = "unexpected data after the JSON object" + (at.find() ? at.group() : "");
            }
            throw new JsonParseException(why.length() > 2 * CUT ? cut(why) : why);
        }
    }

    private Map<String, Safetensors.TensorInfo> parse(String json, Map<String, String> meta) {
        JsonObject root;
        try {
            root = parseStrict(json).getAsJsonObject(); // it begins with '{'
        } catch (JsonParseException e) {
            throw invalid("the header is not valid JSON: " + e.getMessage());
        }
        Map<String, Safetensors.TensorInfo> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> en : root.entrySet()) {
            String name = text("a tensor name", en.getKey());
            JsonElement v = en.getValue();
            if (!"__metadata__".equals(name)) {
                out.put(name, entry(name, v));
            } else if (!v.isJsonNull() && !v.isJsonObject()) {
                throw invalid("__metadata__ is " + found(v) + "; expected an object of strings, or null");
            } else if (v.isJsonObject()) {
                for (Map.Entry<String, JsonElement> m : v.getAsJsonObject().entrySet()) {
                    JsonElement x = m.getValue();
                    if (!x.isJsonPrimitive() || !x.getAsJsonPrimitive().isString()) {
                        throw invalid(
                                "__metadata__ entry '" + cut(m.getKey()) + "' is " + found(x) + "; expected a string");
                    }
                    meta.put(text("a __metadata__ key", m.getKey()), text("a __metadata__ value", x.getAsString()));
                }
            }
        }
        return out;
    }

    private Safetensors.TensorInfo entry(String name, JsonElement value) {
        String t = "tensor '" + cut(name) + "'";
        if (!value.isJsonObject()) {
            throw invalid(t + " is " + found(value) + "; expected an object with dtype, shape and data_offsets");
        }
        JsonObject o = value.getAsJsonObject();
        JsonElement dt = field(t, o, "dtype");
        if (!dt.isJsonPrimitive() || !dt.getAsJsonPrimitive().isString()) {
            throw invalid(t + ": dtype is " + found(dt) + "; expected a string such as \"F32\"");
        }
        String dts = text(t + ": dtype", dt.getAsString());
        SafetensorsDtype dtype = SafetensorsDtype.byName(dts);
        if (dtype == null) {
            String expected = "; expected one of " + Arrays.toString(SafetensorsDtype.values());
            if (SafetensorsDtype.UNSUPPORTED.contains(dts)) {
                throw fail("UnsupportedDtype", t + " has dtype '" + dts + "', which is not supported here" + expected);
            }
            throw invalid(t + " has the unknown dtype '" + cut(dts) + "'" + expected);
        }
        long[] dims = integers(t, "shape", field(t, o, "shape"));
        long[] off = integers(t, "data_offsets", field(t, o, "data_offsets"));
        if (off.length != 2) {
            throw invalid(t + ": data_offsets holds " + off.length + " values; expected two, [begin, end]");
        }
        return new Safetensors.TensorInfo(name, dtype, new Shape(dims), off[0], off[1]);
    }

    private JsonElement field(String t, JsonObject o, String key) {
        JsonElement e = o.get(key);
        if (e == null) {
            throw invalid(t + ": the field " + key + " is missing");
        }
        return e;
    }

    /** Reads an array of JSON integers as serde reads {@code usize}: digits only, no sign, fraction or exponent. */
    private long[] integers(String t, String key, JsonElement e) {
        if (!e.isJsonArray()) {
            throw invalid(t + ": " + key + " is " + found(e) + "; expected an array of integers");
        }
        JsonArray a = e.getAsJsonArray();
        long[] out = new long[a.size()];
        for (int i = 0; i < out.length; i++) {
            JsonElement x = a.get(i);
            String s = x.isJsonPrimitive() && x.getAsJsonPrimitive().isNumber() ? x.getAsString() : "";
            if (s.isEmpty() || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
                throw invalid(t + ": " + key + " holds " + found(x) + "; expected a non-negative integer");
            }
            if (s.length() > 20 || new BigInteger(s).bitLength() > 64) {
                throw invalid(t + ": " + key + " holds " + cut(s) + "; expected at most 2^64 - 1");
            }
            if (new BigInteger(s).bitLength() > 63) {
                throw fail("ValidationOverflow", t + ": " + key + " holds " + s + "; expected at most 2^63 - 1");
            }
            out[i] = Long.parseLong(s);
        }
        return out;
    }

    /** The reference's {@code Metadata::validate}, then its check that the tensors end where the file does. */
    private void validate(long dataLen) {
        List<Safetensors.TensorInfo> sorted = new ArrayList<>(tensors.values());
        sorted.sort(
                Comparator.comparingLong(Safetensors.TensorInfo::begin).thenComparingLong(Safetensors.TensorInfo::end));
        long start = 0;
        String before = "";
        for (Safetensors.TensorInfo t : sorted) {
            String name = "tensor '" + cut(t.name()) + "'";
            String offsets = " (data_offsets [" + t.begin() + ", " + t.end() + "])";
            if (t.end() < t.begin()) {
                throw fail("InvalidOffset", name + " ends before it begins" + offsets + "; expected begin <= end");
            }
            if (t.begin() != start) {
                String where = start == 0 ? ", the start of the data section" : ", where tensor '" + before + "' ends";
                throw fail(
                        "InvalidOffset",
                        name + " begins at byte " + t.begin() + offsets + "; expected " + start + where
                                + ": tensors must fill the data section without gaps or overlaps");
            }
            start = t.end();
            before = cut(t.name());
            String shape = t.dtype() + " shape " + cut(Arrays.toString(t.shape().getShape()));
            long bytes;
            try {
                long count = Arrays.stream(t.shape().getShape()).reduce(1L, Math::multiplyExact);
                bytes = Math.multiplyExact(count, t.dtype().size());
            } catch (ArithmeticException e) {
                throw fail("ValidationOverflow", name + ": the byte size of " + shape + " overflows 64 bits");
            }
            if (t.byteSize() != bytes) {
                throw fail(
                        "TensorInvalidInfo",
                        name + " spans " + t.byteSize() + " bytes" + offsets + " but " + shape + " needs " + bytes);
            }
        }
        if (start != dataLen) {
            String why = start < dataLen
                    ? " (" + (dataLen - start) + " bytes after the last tensor: trailing data, or a header length that"
                            + " is too short?)"
                    : " (truncated file?)";
            String last = sorted.isEmpty()
                    ? "there are no tensors"
                    : "the last tensor, '" + before + "', ends at byte " + start;
            throw fail("MetadataIncompleteBuffer", last + " but the data section has " + dataLen + " bytes" + why);
        }
    }

    /** Returns the string, rejecting what serde would not decode: an unpaired surrogate written as an escape. */
    private String text(String what, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw invalid(what + " has an unpaired surrogate \\u" + Integer.toHexString(c) + " at character " + i
                        + " (escaped in the JSON); expected well-formed Unicode");
            }
        }
        return s;
    }

    private static String found(JsonElement e) {
        if (e.isJsonObject() || e.isJsonArray() || e.isJsonNull()) {
            return e.isJsonObject() ? "an object" : e.isJsonArray() ? "an array" : "null";
        }
        return e.getAsJsonPrimitive().isString() ? "the string \"" + cut(e.getAsString()) + "\"" : cut(e.toString());
    }

    private Safetensors.SafetensorsException invalid(String what) {
        return fail("InvalidHeaderDeserialization", what);
    }

    private Safetensors.SafetensorsException fail(String rule, String what) {
        return fail(file, rule, what);
    }

    /** An exception for a broken rule: the file, what is wrong, and the reference's error name in brackets. */
    static Safetensors.SafetensorsException fail(Path file, String rule, String what) {
        return new Safetensors.SafetensorsException(file + ": " + what + " [" + rule + "]", rule);
    }
}
