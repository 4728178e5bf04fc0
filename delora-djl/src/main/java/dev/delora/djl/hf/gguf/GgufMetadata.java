package dev.delora.djl.hf.gguf;

import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * The metadata key/value pairs of a GGUF file, in file order, with typed accessors that fail with a
 * {@link GgufException} naming the file, the key, the type found and the type expected.
 */
public final class GgufMetadata {
    private final Path file;
    private final Map<String, GgufValue> entries;

    GgufMetadata(Path file, Map<String, GgufValue> entries) {
        this.file = file;
        this.entries = Collections.unmodifiableMap(entries);
    }

    /**
     * Returns every entry.
     *
     * @return key to value, in file order (unmodifiable)
     */
    public Map<String, GgufValue> entries() {
        return entries;
    }

    /**
     * Returns one entry.
     *
     * @param key the key, e.g. {@code general.architecture}
     * @return the value, or {@code null} when absent
     */
    public GgufValue get(String key) {
        return entries.get(key);
    }

    /**
     * Returns a required string.
     *
     * @param key the key
     * @return the string
     * @throws GgufException if the key is missing or no STRING
     */
    public String string(String key) throws GgufException {
        return optionalString(key).orElseThrow(() -> missing(key, "a STRING"));
    }

    /**
     * Returns an optional string.
     *
     * @param key the key
     * @return the string, or empty when absent
     * @throws GgufException if the key is present but no STRING
     */
    public Optional<String> optionalString(String key) throws GgufException {
        GgufValue v = entries.get(key);
        if (v == null) {
            return Optional.empty();
        }
        if (v.type() != GgufValueType.STRING) {
            throw wrongType(key, v, "a STRING");
        }
        return Optional.of((String) v.value());
    }

    /**
     * Returns a required integer of any of the eight integer types.
     *
     * @param key the key
     * @return the value
     * @throws GgufException if the key is missing, no integer, or a UINT64 of 2^63 or more
     */
    public long integer(String key) throws GgufException {
        OptionalLong v = optionalInteger(key);
        if (v.isEmpty()) {
            throw missing(key, "an integer");
        }
        return v.getAsLong();
    }

    /**
     * Returns an optional integer of any of the eight integer types.
     *
     * @param key the key
     * @return the value, or empty when absent
     * @throws GgufException if the key is present but no integer, or a UINT64 of 2^63 or more
     */
    public OptionalLong optionalInteger(String key) throws GgufException {
        GgufValue v = entries.get(key);
        if (v == null) {
            return OptionalLong.empty();
        }
        if (!v.type().isInteger()) {
            throw wrongType(key, v, "an integer");
        }
        long x = (Long) v.value();
        if (v.type() == GgufValueType.UINT64 && x < 0) {
            throw new GgufException(file + ": metadata key '" + key + "' is " + Long.toUnsignedString(x)
                    + "; expected at most " + Long.MAX_VALUE);
        }
        return OptionalLong.of(x);
    }

    /**
     * Returns an optional number: FLOAT32 (widened exactly), FLOAT64 or an integer.
     *
     * @param key the key
     * @return the value, or empty when absent
     * @throws GgufException if the key is present but no number
     */
    public OptionalDouble optionalNumber(String key) throws GgufException {
        GgufValue v = entries.get(key);
        if (v == null) {
            return OptionalDouble.empty();
        }
        if (v.type() == GgufValueType.FLOAT32) {
            return OptionalDouble.of((Float) v.value());
        }
        if (v.type() == GgufValueType.FLOAT64) {
            return OptionalDouble.of((Double) v.value());
        }
        if (!v.type().isInteger()) {
            throw wrongType(key, v, "a number");
        }
        return OptionalDouble.of(optionalInteger(key).getAsLong());
    }

    /**
     * Returns a required number: FLOAT32 (widened exactly), FLOAT64 or an integer.
     *
     * @param key the key
     * @return the value
     * @throws GgufException if the key is missing or no number
     */
    public double number(String key) throws GgufException {
        OptionalDouble v = optionalNumber(key);
        if (v.isEmpty()) {
            throw missing(key, "a number");
        }
        return v.getAsDouble();
    }

    /**
     * Returns an optional boolean.
     *
     * @param key the key
     * @param absent the value when the key is absent
     * @return the value
     * @throws GgufException if the key is present but no BOOL
     */
    public boolean bool(String key, boolean absent) throws GgufException {
        GgufValue v = entries.get(key);
        if (v == null) {
            return absent;
        }
        if (v.type() != GgufValueType.BOOL) {
            throw wrongType(key, v, "a BOOL");
        }
        return (Boolean) v.value();
    }

    /**
     * Returns a required array of strings.
     *
     * @param key the key
     * @return the strings (unmodifiable)
     * @throws GgufException if the key is missing or no ARRAY of STRING
     */
    @SuppressWarnings("unchecked")
    public List<String> strings(String key) throws GgufException {
        GgufValue v = entries.get(key);
        if (v == null) {
            throw missing(key, "an ARRAY of STRING");
        }
        if (v.type() != GgufValueType.ARRAY || v.elementType() != GgufValueType.STRING) {
            throw wrongType(key, v, "an ARRAY of STRING");
        }
        return (List<String>) v.value();
    }

    /**
     * Returns a required array of integers (any integer element type).
     *
     * @param key the key
     * @return the values (a UINT64 element keeps its 64 bits)
     * @throws GgufException if the key is missing or no ARRAY of an integer type
     */
    public long[] integers(String key) throws GgufException {
        GgufValue v = entries.get(key);
        if (v == null) {
            throw missing(key, "an ARRAY of integers");
        }
        if (v.type() != GgufValueType.ARRAY || !v.elementType().isInteger()) {
            throw wrongType(key, v, "an ARRAY of integers");
        }
        List<?> list = v.list();
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (Long) list.get(i);
        }
        return out;
    }

    /**
     * Builds the error for a value that breaks an expectation.
     *
     * @param key the key
     * @param what what is wrong and what was expected, e.g. {@code "is 'qwen2'; expected 'llama'"}
     * @return the exception, naming the file and key
     */
    GgufException fail(String key, String what) {
        return new GgufException(file + ": metadata key '" + key + "' " + what);
    }

    private GgufException missing(String key, String expected) {
        return fail(key, "is missing; expected " + expected);
    }

    private GgufException wrongType(String key, GgufValue v, String expected) {
        return fail(key, "is a " + v.describeType() + "; expected " + expected);
    }
}
