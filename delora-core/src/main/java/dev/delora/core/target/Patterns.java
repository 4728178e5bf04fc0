package dev.delora.core.target;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** Validation and copying of PEFT's per-module pattern maps ({@code rank_pattern}, {@code alpha_pattern}, …). */
public final class Patterns {

    private Patterns() {}

    /**
     * Returns an unmodifiable copy that keeps insertion order (PEFT picks the first matching key), after checking
     * that every key is a valid regex.
     *
     * @param pattern the map, or {@code null}
     * @param <V> the value type
     * @return an ordered unmodifiable copy, empty for {@code null}
     */
    public static <V> Map<String, V> ordered(Map<String, V> pattern) {
        if (pattern == null || pattern.isEmpty()) {
            return Map.of();
        }
        for (String key : pattern.keySet()) {
            try {
                Pattern.compile(key);
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("Invalid pattern key '" + key + "': " + e.getDescription(), e);
            }
        }
        return Collections.unmodifiableMap(new LinkedHashMap<>(pattern));
    }

    /**
     * Validates and copies a {@code rank_pattern}: every rank must be positive.
     *
     * @param ranks the map, or {@code null}
     * @return an ordered unmodifiable copy
     */
    public static Map<String, Integer> ranks(Map<String, Integer> ranks) {
        Map<String, Integer> copy = ordered(ranks);
        copy.forEach((k, v) -> {
            if (v == null || v <= 0) {
                throw new IllegalArgumentException("rank_pattern['" + k + "'] must be > 0, got " + v);
            }
        });
        return copy;
    }
}
