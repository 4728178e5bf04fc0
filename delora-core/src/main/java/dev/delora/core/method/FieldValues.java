package dev.delora.core.method;

import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writing {@code adapter_config.json} values as PEFT's files show them (integral numbers as integers, others as the
 * shortest decimal that reads back as the same float), and cutting untrusted text for error messages.
 */
public final class FieldValues {

    private FieldValues() {}

    /**
     * Encodes a float as PEFT's files show it: integral values as integers ({@code 8}), others as the shortest
     * decimal that reads back as the same float ({@code 0.2}, not {@code 0.20000000298023224}).
     *
     * @param v the value
     * @return a {@code Long} or a {@link BigDecimal}
     */
    public static Number number(float v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return (long) v;
        }
        return new BigDecimal(Float.toString(v)).stripTrailingZeros();
    }

    /**
     * Encodes a float that PEFT types as float ({@code lora_dropout}) as a decimal: {@code 0.0}, {@code 0.1} (the
     * shortest decimal that reads back as the same float).
     *
     * @param v the value
     * @return a {@link BigDecimal}
     */
    public static BigDecimal decimal(float v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return BigDecimal.valueOf((long) v).setScale(1);
        }
        return new BigDecimal(Float.toString(v)).stripTrailingZeros();
    }

    /**
     * Encodes a pattern map for writing ({@link #number(float)} for each value).
     *
     * @param m pattern to value
     * @return pattern to encoded value, ordered
     */
    public static Map<String, Object> numbers(Map<String, ? extends Number> m) {
        Map<String, Object> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, v instanceof Float f ? number(f) : v));
        return out;
    }

    /**
     * Cuts untrusted text (names and values from files) for an error message.
     *
     * @param text the text, may be null
     * @param max the longest result
     * @return the text, or its start followed by {@code ...}
     */
    public static String cut(String text, int max) {
        if (text == null || text.length() <= max) {
            return String.valueOf(text);
        }
        return text.substring(0, Math.max(0, max - 3)) + "...";
    }
}
