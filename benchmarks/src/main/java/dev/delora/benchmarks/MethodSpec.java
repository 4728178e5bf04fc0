package dev.delora.benchmarks;

import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import dev.delora.core.AdapterConfig;
import dev.delora.core.method.AdapterMethod;
import dev.delora.core.method.AdapterMethods;
import dev.delora.core.method.ConfigFields;
import dev.delora.djl.persist.AdapterConfigJson;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.IntFunction;
import java.util.regex.Pattern;

/**
 * One benchmarked configuration: the frozen base ({@code base}) or a registered adapter method
 * ({@link AdapterMethods}) with PEFT {@code adapter_config.json} fields, written {@code NAME} or
 * {@code NAME:field=value[,field=value...]} (values as JSON: numbers, {@code true}/{@code false}, strings with or
 * without quotes, lists). Examples: {@code lora}, {@code delora:init_weights=paper}, {@code sora:sparse_lambda=5}.
 *
 * <p>The benchmark's defaults, the fields it sets under what a spec gives, are data in this class and nowhere else:
 * no adapter dropout (both sides do the same work), α = 2r for the α-methods, DeLoRA's λ = 15 with PEFT's B = 0
 * initialisation and its λ group at learning rate 3e-3, SoRA's η = 10 and ξ = 1e-4; also the default method lists. A
 * registered method without an entry here runs with its PEFT defaults.
 *
 * @param label the canonical text ({@code base}, or the registry's name and the fields as written); the key of the
 *     JSON results on both sides
 * @param method the method, or {@code null} for the base
 * @param fields the fields the spec gives, in order (values as a JSON parser yields them)
 */
public record MethodSpec(String label, AdapterMethod method, Map<String, Object> fields) {

    /** The frozen base, without an adapter. */
    public static final MethodSpec BASE = new MethodSpec("base", null, Map.of());

    /** What {@code --methods} runs by default (the base always runs). */
    public static final String DEFAULT_METHODS = "lora,delora,delora:init_weights=paper,loraxs,sora";

    /** The method of the resident-memory trace by default. */
    public static final String DEFAULT_SOAK_METHOD = "delora";

    /** The benchmark's fields per method name (as the registry names it), given the rank; the spec's win. */
    private static final Map<String, IntFunction<Map<String, Object>>> DEFAULT_FIELDS = Map.of(
            "lora", r -> Map.of("lora_alpha", 2 * r, "lora_dropout", 0),
            "loraxs", r -> Map.of("lora_alpha", 2 * r, "lora_dropout", 0),
            "sora", r -> Map.of("lora_alpha", 2 * r, "lora_dropout", 0, "sparse_lambda", 10, "sparse_lambda_2", 1e-4),
            "delora", r -> Map.of("delora_lambda", 15, "module_dropout", 0, "init_weights", true));

    /** Learning rates of the parameter groups a method defines (TrainerSettings#groupLearningRate). */
    private static final Map<String, Map<String, Double>> GROUP_LEARNING_RATES =
            Map.of("delora", Map.of("delora_lambda", 3e-3));

    /** Older labels, still accepted on the command line. */
    private static final Map<String, String> ALIASES = Map.of("delora-paper", "delora:init_weights=paper");

    /** Fields the benchmark sets itself (the same layers on both sides). */
    private static final Set<String> RESERVED = Set.of(
            "target_modules",
            "modules_to_save",
            "exclude_modules",
            "layers_to_transform",
            "layers_pattern",
            "peft_type");

    private static final Pattern NUMBER = Pattern.compile("-?(0|[1-9]\\d*)(\\.\\d+)?([eE][+-]?\\d+)?");

    /** Copies the fields, keeping their order and {@code null} values. */
    public MethodSpec {
        fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
    }

    /**
     * Parses one spec.
     *
     * @param text {@code base}, {@code NAME} or {@code NAME:field=value[,field=value...]}
     * @return the spec, its fields checked against the method (unknown or invalid fields are rejected)
     * @throws IllegalArgumentException with a one-line message naming the spec and the registered methods
     */
    public static MethodSpec parse(String text) {
        String t = text == null ? "" : text.trim();
        t = ALIASES.getOrDefault(t.toLowerCase(Locale.ROOT), t);
        int colon = t.indexOf(':');
        String name = (colon < 0 ? t : t.substring(0, colon)).trim();
        if (name.equalsIgnoreCase(BASE.label())) {
            if (colon >= 0) {
                throw new IllegalArgumentException("method spec '" + text + "': the base takes no fields");
            }
            return BASE;
        }
        AdapterMethod method;
        try {
            method = AdapterMethods.byName(name);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown method '" + text + "'; expected base or one of "
                    + AdapterMethods.names() + ", optionally as NAME:field=value[,field=value...]");
        }
        Map<String, Object> fields = new LinkedHashMap<>();
        List<String> written = new ArrayList<>();
        if (colon >= 0) {
            for (String part : splitTopLevel(t.substring(colon + 1))) {
                int eq = part.indexOf('=');
                String key = eq < 0 ? "" : part.substring(0, eq).trim();
                if (key.isEmpty() || key.chars().anyMatch(Character::isWhitespace)) {
                    throw new IllegalArgumentException(
                            "method spec '" + text + "': expected field=value, got '" + part.trim() + "'");
                }
                if (RESERVED.contains(key)) {
                    throw new IllegalArgumentException(
                            "method spec '" + text + "': " + key + " is set by the benchmark");
                }
                if (fields.containsKey(key)) {
                    throw new IllegalArgumentException("method spec '" + text + "': field '" + key + "' given twice");
                }
                String raw = part.substring(eq + 1).trim();
                fields.put(key, value(text, raw));
                written.add(key + "=" + raw);
            }
        }
        String label = method.name() + (written.isEmpty() ? "" : ":" + String.join(",", written));
        MethodSpec spec = new MethodSpec(label, method, fields);
        spec.config(8, List.of("query", "value"), List.of()); // rejects bad fields now, not in a child process
        return spec;
    }

    /**
     * Parses a comma-separated list of specs; a part {@code field=value} continues the spec before it, so
     * {@code lora,sora:sparse_lambda=5,lora_alpha=8} is two specs.
     *
     * @param text the list
     * @return the specs, in order
     * @throws IllegalArgumentException on an invalid spec, a field before any spec, or a spec listed twice
     */
    public static List<MethodSpec> parseList(String text) {
        List<String> specs = new ArrayList<>();
        for (String part : splitTopLevel(text == null ? "" : text)) {
            String p = part.trim();
            int eq = p.indexOf('=');
            int colon = p.indexOf(':');
            if (eq >= 0 && (colon < 0 || eq < colon)) {
                if (specs.isEmpty()) {
                    throw new IllegalArgumentException("'" + p + "' is a field, but no method comes before it");
                }
                specs.set(specs.size() - 1, specs.get(specs.size() - 1) + "," + p);
            } else if (p.isEmpty()) {
                throw new IllegalArgumentException("empty method in list '" + text + "'");
            } else {
                specs.add(p);
            }
        }
        List<MethodSpec> out = new ArrayList<>();
        Set<String> labels = new LinkedHashSet<>();
        for (String s : specs) {
            MethodSpec spec = parse(s);
            if (!labels.add(spec.label())) {
                throw new IllegalArgumentException("method '" + spec.label() + "' is listed twice");
            }
            out.add(spec);
        }
        return out;
    }

    /**
     * Returns the canonical label of an older label (a key of result files written before the spec syntax), or the
     * key itself.
     *
     * @param key a key of a result file
     * @return e.g. {@code delora:init_weights=paper} for {@code delora-paper}
     */
    public static String canonicalKey(String key) {
        String alias = ALIASES.get(key);
        return alias == null ? key : parse(alias).label();
    }

    /**
     * Tells whether this is the frozen base.
     *
     * @return true for {@code base}
     */
    public boolean isBase() {
        return method == null;
    }

    /**
     * Builds the adapter config through the registry ({@link AdapterConfigJson#fromFields}): the benchmark's
     * defaults for the method, then the spec's fields, then the targets.
     *
     * @param r the rank, unless the spec sets {@code r}
     * @param targets target module names
     * @param modulesToSave modules trained in full (the head), may be empty
     * @return the config
     * @throws IllegalArgumentException naming the spec and field when a field is invalid or the method reads it not
     * @throws IllegalStateException for the base, which has no adapter
     */
    public AdapterConfig config(int r, List<String> targets, List<String> modulesToSave) {
        if (isBase()) {
            throw new IllegalStateException("the base has no adapter");
        }
        int rank = fields.get("r") instanceof Number n ? n.intValue() : r;
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("r", rank);
        values.putAll(DEFAULT_FIELDS.getOrDefault(method.name(), x -> Map.of()).apply(rank));
        values.putAll(fields);
        values.put("target_modules", List.copyOf(targets));
        values.put("modules_to_save", modulesToSave.isEmpty() ? null : List.copyOf(modulesToSave));
        ConfigFields read = new ConfigFields(values, "method spec '" + label + "'");
        AdapterConfig config = AdapterConfigJson.fromFields(method, read);
        List<String> unread = read.unread().stream().filter(fields::containsKey).toList();
        if (!unread.isEmpty()) {
            throw read.error(method.name() + " does not use field(s) " + unread);
        }
        return config;
    }

    /**
     * Returns the learning rates of the method's own parameter groups the benchmark sets (empty for most).
     *
     * @return group name to learning rate
     */
    public Map<String, Double> groupLearningRates() {
        return isBase() ? Map.of() : GROUP_LEARNING_RATES.getOrDefault(method.name(), Map.of());
    }

    @Override
    public String toString() {
        return label;
    }

    /** Reads a value as JSON where it is JSON; anything else is a string. */
    private static Object value(String spec, String raw) {
        if (raw.equals("true") || raw.equals("false")) {
            return Boolean.parseBoolean(raw);
        }
        if (raw.equals("null")) {
            return null;
        }
        if (NUMBER.matcher(raw).matches()) {
            return new BigDecimal(raw);
        }
        if (raw.startsWith("\"") || raw.startsWith("[") || raw.startsWith("{")) {
            try {
                return plain(JsonParser.parseString(raw));
            } catch (JsonParseException e) {
                throw new IllegalArgumentException("method spec '" + spec + "': " + raw + " is not valid JSON");
            }
        }
        return raw;
    }

    private static Object plain(JsonElement e) {
        if (e == null || e.isJsonNull()) {
            return null;
        }
        if (e.isJsonObject()) {
            Map<String, Object> out = new LinkedHashMap<>();
            e.getAsJsonObject().entrySet().forEach(en -> out.put(en.getKey(), plain(en.getValue())));
            return out;
        }
        if (e.isJsonArray()) {
            List<Object> out = new ArrayList<>();
            e.getAsJsonArray().forEach(v -> out.add(plain(v)));
            return out;
        }
        JsonPrimitive p = e.getAsJsonPrimitive();
        return p.isBoolean()
                ? (Object) p.getAsBoolean()
                : p.isNumber() ? new BigDecimal(p.getAsString()) : p.getAsString();
    }

    /** Splits at commas outside quotes and brackets. */
    private static List<String> splitTopLevel(String s) {
        List<String> out = new ArrayList<>();
        int depth = 0;
        boolean quoted = false;
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' && (i == 0 || s.charAt(i - 1) != '\\')) {
                quoted = !quoted;
            } else if (!quoted && (c == '[' || c == '{')) {
                depth++;
            } else if (!quoted && (c == ']' || c == '}')) {
                depth--;
            } else if (!quoted && depth == 0 && c == ',') {
                out.add(s.substring(start, i));
                start = i + 1;
            }
        }
        out.add(s.substring(start));
        return out;
    }
}
