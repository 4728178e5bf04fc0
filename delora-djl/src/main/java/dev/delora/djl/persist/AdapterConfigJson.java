package dev.delora.djl.persist;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import dev.delora.core.AdapterConfig;
import dev.delora.core.method.AdapterMethod;
import dev.delora.core.method.AdapterMethods;
import dev.delora.core.method.ConfigFields;
import dev.delora.core.method.FieldValues;
import dev.delora.core.target.ModuleMatcher;
import dev.delora.core.target.TargetSpec;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code adapter_config.json} ⇄ {@link AdapterConfig}: the fields every method shares (targets, {@code peft_type},
 * metadata) here, the method's own fields through its registered {@link AdapterMethod}. Parsing is strict JSON (no
 * comments, no single quotes, no trailing garbage) and numbers keep their written value, so a method's reader can
 * reject {@code 4.5} where an integer is due.
 */
public final class AdapterConfigJson {

    private static final Logger LOG = LoggerFactory.getLogger(AdapterConfigJson.class);

    /** Fields that only describe where or how an adapter was made; they do not change what it computes. */
    private static final Set<String> METADATA = Set.of(
            "peft_type",
            "task_type",
            "base_model_name_or_path",
            "revision",
            "inference_mode",
            "peft_version",
            "auto_mapping",
            "bias",
            "fan_in_fan_out",
            "megatron_config",
            "megatron_core",
            "loftq_config",
            "eva_config",
            "corda_config",
            "lora_ga_config",
            "qalora_group_size",
            "ensure_weight_tying");

    private AdapterConfigJson() {}

    /**
     * Encodes a config as {@code adapter_config.json} with PEFT's field names, sorted as PEFT's own files.
     *
     * @param config the config
     * @param metadata task type, base model name and revision ({@code null} is written as {@code null}, as PEFT does)
     * @return the JSON object
     */
    public static JsonObject toJson(AdapterConfig config, PeftAdapters.Metadata metadata) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("peft_type", config.peftType());
        o.put("task_type", metadata.taskType());
        o.put("base_model_name_or_path", metadata.baseModelNameOrPath());
        o.put("revision", metadata.revision());
        o.put("inference_mode", false);
        o.putAll(AdapterMethods.of(config).toFields(config));
        o.putAll(targetFields(config.targets()));
        // sorted like PEFT's own files, which makes diffs against them readable
        return (JsonObject) toJsonTree(new TreeMap<>(o));
    }

    /**
     * Decodes {@code adapter_config.json}: PEFT's full field set is accepted; fields that do not change the adapter
     * are ignored with a debug log; unsupported values (e.g. {@code use_dora=true}, {@code bias!="none"},
     * {@code fan_in_fan_out=true}) are rejected.
     *
     * @param json the file's content
     * @param source the file name, for messages
     * @return the config
     * @throws IllegalArgumentException naming the file and field on unsupported or malformed values
     */
    public static AdapterConfig fromJson(JsonObject json, String source) {
        @SuppressWarnings("unchecked")
        Map<String, Object> values = (Map<String, Object>) toPlain(json);
        return fromFields(new ConfigFields(values, source));
    }

    /**
     * Decodes the text of an {@code adapter_config.json} as strict JSON ({@link #fromJson}).
     *
     * @param text the file's content
     * @param source the file name, for messages
     * @return the config
     * @throws IllegalArgumentException if the text is not one strict JSON object or a field is invalid
     */
    public static AdapterConfig parse(String text, String source) {
        return fromJson(parseObject(text, source), source);
    }

    /**
     * Parses one strict JSON object (RFC 8259: no comments, single quotes, unquoted names or trailing data).
     *
     * @param text the text
     * @param source the file name, for messages
     * @return the object
     * @throws IllegalArgumentException naming the file if the text is not one JSON object
     */
    public static JsonObject parseObject(String text, String source) {
        try (JsonReader reader = new JsonReader(new StringReader(text))) {
            reader.setStrictness(Strictness.STRICT);
            JsonElement e = JsonParser.parseReader(reader); // keeps STRICT (it only relaxes the default)
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw new IllegalArgumentException(source + " has data after its JSON object");
            }
            if (!e.isJsonObject()) {
                throw new IllegalArgumentException(source + " must hold a JSON object");
            }
            return e.getAsJsonObject();
        } catch (JsonParseException | IOException | IllegalStateException e) {
            // Gson's message quotes the JSON path (names from the file) and advises LENIENT parsing: cut both
            String why = String.valueOf(e.getMessage());
            int advice = why.indexOf("Use JsonReader.setStrictness");
            why = advice > 0 ? why.substring(0, advice).trim() : why;
            throw new IllegalArgumentException(source + " is not valid JSON: " + FieldValues.cut(why, 200), e);
        }
    }

    /**
     * Builds a config from fields ({@code peft_type} optional when a method is given by other means).
     *
     * @param fields the fields
     * @return the config
     */
    static AdapterConfig fromFields(ConfigFields fields) {
        String type = fields.string("peft_type", null);
        if (type == null) {
            throw fields.error("peft_type is missing");
        }
        AdapterMethod method;
        try {
            method = AdapterMethods.byPeftType(type, fields);
        } catch (IllegalArgumentException e) {
            throw fields.error(e.getMessage());
        }
        AdapterConfig config = fromFields(method, fields);
        finish(fields);
        return config;
    }

    /**
     * Builds a config of a given method from {@code adapter_config.json} fields; the entry point for programs and
     * command lines that configure a method by PEFT field names (e.g. {@code {"r": 8, "delora_lambda": 12}}).
     *
     * @param method the method
     * @param fields the fields, including the targeting ones ({@code target_modules} is required)
     * @return the validated config
     * @throws IllegalArgumentException naming the source and field on invalid values
     */
    public static AdapterConfig fromFields(AdapterMethod method, ConfigFields fields) {
        try {
            return method.fromFields(fields, readTargets(fields));
        } catch (IllegalArgumentException e) {
            String msg = String.valueOf(e.getMessage());
            throw msg.startsWith(fields.source()) ? e : fields.error(FieldValues.cut(msg, 500));
        }
    }

    /** Checks the fields every method shares and logs the ones nobody read. */
    private static void finish(ConfigFields j) {
        String bias = j.string("bias", "none");
        if (!"none".equals(bias)) {
            throw j.error("bias '" + FieldValues.cut(bias, 80)
                    + "' is not supported (only \"none\": base biases stay frozen)");
        }
        if (j.bool("fan_in_fan_out", false)) {
            throw j.error("fan_in_fan_out=true (GPT-2 Conv1D weights) is not supported; DJL Linear weights are "
                    + "[out, in]");
        }
        for (String key : j.unread()) {
            if (!METADATA.contains(key)) {
                LOG.debug("{}: ignoring field '{}'", j.source(), key);
            }
        }
    }

    /** The targeting fields every method shares, in PEFT's encoding. */
    static Map<String, Object> targetFields(TargetSpec t) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("target_modules", matcher(t.targetModules()));
        o.put("exclude_modules", t.excludeModules() == null ? null : matcher(t.excludeModules()));
        o.put("layers_to_transform", t.layersToTransform().isEmpty() ? null : t.layersToTransform());
        o.put("layers_pattern", t.layersPattern().isEmpty() ? null : t.layersPattern());
        o.put("modules_to_save", t.modulesToSave().isEmpty() ? null : t.modulesToSave());
        return o;
    }

    /** Reads the targeting fields. */
    static TargetSpec readTargets(ConfigFields j) {
        if (j.get("target_modules") == null) {
            throw j.error("target_modules is missing; PEFT writes the resolved list when it saves, so this file "
                    + "was not written by PEFT's save_pretrained");
        }
        return new TargetSpec(
                readMatcher(j, "target_modules"),
                readMatcher(j, "exclude_modules"),
                j.integerList("layers_to_transform"),
                j.stringList("layers_pattern"),
                j.stringList("modules_to_save"));
    }

    private static ModuleMatcher readMatcher(ConfigFields j, String field) {
        Object e = j.get(field);
        if (e == null) {
            return null;
        }
        if (e instanceof String regex) {
            return ModuleMatcher.regex(regex);
        }
        return ModuleMatcher.names(j.stringList(field).toArray(String[]::new));
    }

    private static Object matcher(ModuleMatcher m) {
        return m.regex() != null ? m.regex() : m.names();
    }

    /** Converts parsed JSON to plain Java values; numbers become {@link BigDecimal} exactly as written. */
    static Object toPlain(JsonElement e) {
        if (e == null || e.isJsonNull()) {
            return null;
        }
        if (e.isJsonObject()) {
            Map<String, Object> out = new LinkedHashMap<>();
            e.getAsJsonObject().entrySet().forEach(en -> out.put(en.getKey(), toPlain(en.getValue())));
            return out;
        }
        if (e.isJsonArray()) {
            List<Object> out = new ArrayList<>();
            e.getAsJsonArray().forEach(v -> out.add(toPlain(v)));
            return out;
        }
        JsonPrimitive p = e.getAsJsonPrimitive();
        if (p.isBoolean()) {
            return p.getAsBoolean();
        }
        if (p.isNumber()) {
            return new BigDecimal(p.getAsString());
        }
        return p.getAsString();
    }

    /** Converts plain Java values ({@link AdapterMethod#toFields}) to a JSON tree. */
    static JsonElement toJsonTree(Object v) {
        if (v == null) {
            return JsonNull.INSTANCE;
        }
        if (v instanceof Map<?, ?> m) {
            JsonObject o = new JsonObject();
            m.forEach((k, x) -> o.add(String.valueOf(k), toJsonTree(x)));
            return o;
        }
        if (v instanceof Iterable<?> it) {
            JsonArray a = new JsonArray();
            it.forEach(x -> a.add(toJsonTree(x)));
            return a;
        }
        if (v instanceof Boolean b) {
            return new JsonPrimitive(b);
        }
        if (v instanceof Number n) {
            return new JsonPrimitive(n);
        }
        if (v instanceof String s) {
            return new JsonPrimitive(s);
        }
        throw new IllegalArgumentException("Cannot write " + v.getClass().getName() + " to adapter_config.json");
    }

    /**
     * Formats a JSON object as PEFT writes it (pretty, nulls kept).
     *
     * @param json the object
     * @return the text, with a final newline
     */
    static String format(JsonObject json) {
        return new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(json) + "\n";
    }
}
