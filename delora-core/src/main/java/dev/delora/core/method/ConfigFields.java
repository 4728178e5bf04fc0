package dev.delora.core.method;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * The fields of one {@code adapter_config.json} (or of a config given as field/value pairs), read strictly: each
 * accessor checks the JSON type and range and names the source and field in its error. It remembers which fields were
 * read, so callers can report the rest ({@link #unread()}).
 *
 * <p>Values are plain Java objects as a JSON parser yields them: {@code Boolean}, {@code String}, {@code Number}
 * ({@link BigDecimal} from files, so that {@code 4.5} or {@code 2^64+4} are seen as written), {@code List},
 * {@code Map} and {@code null}. Not thread-safe; one instance per read.
 */
public final class ConfigFields {

    private final Map<String, Object> values;
    private final String source;
    private final Set<String> read = new HashSet<>();

    /**
     * Wraps parsed fields.
     *
     * @param values field name to value
     * @param source the file (or other origin) named in every error
     */
    public ConfigFields(Map<String, ?> values, String source) {
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
        this.source = source;
    }

    /**
     * Returns the origin named in errors.
     *
     * @return the source
     */
    public String source() {
        return source;
    }

    /**
     * Returns an error that names the source.
     *
     * @param message what is wrong
     * @return the exception to throw
     */
    public IllegalArgumentException error(String message) {
        return new IllegalArgumentException(source + ": " + message);
    }

    /**
     * Tells whether a field is present (even as {@code null}).
     *
     * @param field the field name
     * @return true if present
     */
    public boolean has(String field) {
        return values.containsKey(field);
    }

    /**
     * Returns a field's raw value and marks it read.
     *
     * @param field the field name
     * @return the value, or {@code null} when absent or null
     */
    public Object get(String field) {
        read.add(field);
        return values.get(field);
    }

    /**
     * Returns the fields present but never read, in file order.
     *
     * @return the unread field names
     */
    public List<String> unread() {
        return values.keySet().stream().filter(k -> !read.contains(k)).toList();
    }

    private BigDecimal decimal(String field, Object v, String kind) {
        if (v instanceof BigDecimal d) {
            return d;
        }
        if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
            return BigDecimal.valueOf(((Number) v).longValue());
        }
        if (v instanceof BigInteger i) {
            return new BigDecimal(i);
        }
        if ((v instanceof Double || v instanceof Float) && Double.isFinite(((Number) v).doubleValue())) {
            // Float.toString is the shortest decimal that reads back as the same float
            return new BigDecimal(v instanceof Float f ? Float.toString(f) : Double.toString((Double) v));
        }
        throw error("field '" + field + "' must be " + kind + ", got " + describe(v));
    }

    /**
     * Reads an integer field.
     *
     * @param field the field name
     * @param fallback the value when absent or null
     * @return the value
     * @throws IllegalArgumentException if it is not a JSON number with an integral value in int range
     */
    public int integer(String field, int fallback) {
        Object v = get(field);
        if (v == null) {
            return fallback;
        }
        return intValue(field, v);
    }

    private int intValue(String field, Object v) {
        BigDecimal d = decimal(field, v, "an integer");
        if (d.signum() != 0 && d.stripTrailingZeros().scale() > 0) {
            throw error("field '" + field + "' must be an integer, got " + describe(v));
        }
        try {
            return d.intValueExact();
        } catch (ArithmeticException e) {
            throw error("field '" + field + "' must be an integer in [" + Integer.MIN_VALUE + ", " + Integer.MAX_VALUE
                    + "], got " + describe(v));
        }
    }

    /**
     * Reads a long integer field.
     *
     * @param field the field name
     * @param fallback the value when absent or null
     * @return the value
     * @throws IllegalArgumentException if it is not an integral JSON number in long range
     */
    public long longValue(String field, long fallback) {
        Object v = get(field);
        if (v == null) {
            return fallback;
        }
        try {
            return decimal(field, v, "an integer").longValueExact();
        } catch (ArithmeticException e) {
            throw error("field '" + field + "' must be a 64-bit integer, got " + describe(v));
        }
    }

    /**
     * Reads a number field as float.
     *
     * @param field the field name
     * @param fallback the value when absent or null
     * @return the value
     * @throws IllegalArgumentException if it is not a JSON number that is finite as a float
     */
    public float number(String field, float fallback) {
        Object v = get(field);
        if (v == null) {
            return fallback;
        }
        return floatValue(field, v);
    }

    private float floatValue(String field, Object v) {
        float f = decimal(field, v, "a number").floatValue();
        if (!Float.isFinite(f)) {
            throw error("field '" + field + "' is out of float range: " + describe(v));
        }
        return f;
    }

    /**
     * Reads a boolean field.
     *
     * @param field the field name
     * @param fallback the value when absent or null
     * @return the value
     * @throws IllegalArgumentException if it is not {@code true} or {@code false}
     */
    public boolean bool(String field, boolean fallback) {
        Object v = get(field);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        throw error("field '" + field + "' must be true or false, got " + describe(v));
    }

    /**
     * Reads a string field.
     *
     * @param field the field name
     * @param fallback the value when absent or null
     * @return the value
     * @throws IllegalArgumentException if it is not a string
     */
    public String string(String field, String fallback) {
        Object v = get(field);
        if (v == null) {
            return fallback;
        }
        if (v instanceof String s) {
            return s;
        }
        throw error("field '" + field + "' must be a string, got " + describe(v));
    }

    /**
     * Reads a lower-case enum name (e.g. {@code "log_linear"}).
     *
     * @param <E> the enum type
     * @param field the field name
     * @param type the enum class
     * @param fallback the value when absent or null
     * @return the constant
     * @throws IllegalArgumentException listing the accepted names
     */
    public <E extends Enum<E>> E enumValue(String field, Class<E> type, E fallback) {
        String s = string(field, null);
        if (s == null) {
            return fallback;
        }
        for (E e : type.getEnumConstants()) {
            if (e.name().toLowerCase(Locale.ROOT).equals(s)) {
                return e;
            }
        }
        throw error("field '" + field + "' is " + describe(s) + "; expected one of "
                + Arrays.stream(type.getEnumConstants())
                        .map(e -> e.name().toLowerCase(Locale.ROOT))
                        .toList());
    }

    /**
     * Reads a string or a list of strings, as PEFT allows for {@code layers_pattern} and friends.
     *
     * @param field the field name
     * @return the strings, empty when absent or null
     * @throws IllegalArgumentException if the value is of another type
     */
    public List<String> stringList(String field) {
        Object v = get(field);
        if (v == null) {
            return List.of();
        }
        if (v instanceof String s) {
            return List.of(s);
        }
        if (v instanceof List<?> list) {
            List<String> out = new ArrayList<>();
            for (Object e : list) {
                if (!(e instanceof String s)) {
                    throw error("field '" + field + "' must be a string or a list of strings, got an element "
                            + describe(e));
                }
                out.add(s);
            }
            return out;
        }
        throw error("field '" + field + "' must be a string or a list of strings, got " + describe(v));
    }

    /**
     * Reads an integer or a list of integers ({@code layers_to_transform}).
     *
     * @param field the field name
     * @return the integers, empty when absent or null
     * @throws IllegalArgumentException if the value is of another type
     */
    public List<Integer> integerList(String field) {
        Object v = get(field);
        if (v == null) {
            return List.of();
        }
        if (v instanceof List<?> list) {
            List<Integer> out = new ArrayList<>();
            for (Object e : list) {
                out.add(intValue(field, e));
            }
            return out;
        }
        return List.of(intValue(field, v));
    }

    /**
     * Reads an object of pattern → integer ({@code rank_pattern}).
     *
     * @param field the field name
     * @return the ordered map, empty when absent or null
     */
    public Map<String, Integer> intMap(String field) {
        Map<String, Integer> out = new LinkedHashMap<>();
        mapEntries(field, (k, v) -> out.put(k, intValue(field + "." + k, v)));
        return out;
    }

    /**
     * Reads an object of pattern → number ({@code alpha_pattern}).
     *
     * @param field the field name
     * @return the ordered map, empty when absent or null
     */
    public Map<String, Float> floatMap(String field) {
        Map<String, Float> out = new LinkedHashMap<>();
        mapEntries(field, (k, v) -> out.put(k, floatValue(field + "." + k, v)));
        return out;
    }

    private void mapEntries(String field, BiConsumer<String, Object> sink) {
        Object v = get(field);
        if (v == null) {
            return;
        }
        if (!(v instanceof Map<?, ?> map)) {
            throw error("field '" + field + "' must be an object of pattern -> value, got " + describe(v));
        }
        map.forEach((k, e) -> {
            String key = String.valueOf(k);
            // the key goes into error messages as part of the field name: keep it readable
            sink.accept(key.length() > 80 ? FieldValues.cut(key, 80) : key, e);
        });
    }

    /**
     * Rejects a field unless it is absent, null or the boolean {@code expected}.
     *
     * @param field the field name
     * @param expected the accepted boolean
     * @param why what is unsupported, for the message
     */
    public void requireAbsentOrValue(String field, boolean expected, String why) {
        Object v = get(field);
        if (v != null && !(v instanceof Boolean b && b == expected)) {
            throw error(why + " (" + field + " = " + describe(v) + ")");
        }
    }

    /**
     * Rejects a field unless it is absent, null, {@code false}, or an empty list or object.
     *
     * @param field the field name
     * @param why what is unsupported, for the message
     */
    public void requireNullOrEmpty(String field, String why) {
        Object v = get(field);
        boolean empty = v == null
                || Boolean.FALSE.equals(v)
                || v instanceof List<?> l && l.isEmpty()
                || v instanceof Map<?, ?> m && m.isEmpty();
        if (!empty) {
            throw error(why + " (" + field + " = " + describe(v) + ")");
        }
    }

    /** Describes a value for an error message, bounded in length (values may come from untrusted files). */
    static String describe(Object v) {
        String s;
        if (v == null) {
            s = "null";
        } else if (v instanceof String str) {
            s = "\"" + str + "\"";
        } else if (v instanceof List<?>) {
            s = "a list " + v;
        } else if (v instanceof Map<?, ?>) {
            s = "an object " + v;
        } else {
            s = v.toString();
        }
        return FieldValues.cut(s, 80);
    }
}
