package dev.delora.djl.hf.chat;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Reads a folder's chat template and special tokens the way transformers 4.57's tokenizer loading does. */
final class TemplateFolder {

    static final String JINJA = "chat_template.jinja";
    static final String CONFIG = "tokenizer_config.json";
    static final String SPECIAL_MAP = "special_tokens_map.json";

    private static final List<String> TOKENS =
            List.of("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token");

    private TemplateFolder() {}

    static ChatTemplate load(Path folder) throws IOException {
        return find(folder)
                .orElseThrow(() -> new IllegalArgumentException("No chat template in " + folder
                        + ": looked for " + JINJA + " and the 'chat_template' field of " + CONFIG
                        + (Files.isRegularFile(folder.resolve(CONFIG)) ? "" : " (no such file)")));
    }

    static Optional<ChatTemplate> find(Path folder) throws IOException {
        Path jinja = folder.resolve(JINJA);
        Path config = folder.resolve(CONFIG);
        JsonObject cfg = Files.isRegularFile(config) ? read(config) : new JsonObject();
        String template;
        String origin;
        if (Files.isRegularFile(jinja)) {
            template = Files.readString(jinja, StandardCharsets.UTF_8);
            origin = "chat_template of " + jinja;
        } else if (cfg.has("chat_template") && !cfg.get("chat_template").isJsonNull()) {
            template = templateField(cfg.get("chat_template"), config);
            origin = "chat_template of " + config;
        } else {
            return Optional.empty();
        }
        Map<String, Object> tokens = new LinkedHashMap<>();
        addTokens(tokens, cfg, config);
        Path map = folder.resolve(SPECIAL_MAP);
        if (Files.isRegularFile(map)) {
            addTokens(tokens, read(map), map);
        }
        tokens.values().removeIf(v -> v instanceof String s ? s.isEmpty() : ((List<?>) v).isEmpty());
        return Optional.of(ChatTemplate.create(template, origin, tokens));
    }

    private static JsonObject read(Path file) throws IOException {
        try {
            JsonElement e = JsonParser.parseString(Files.readString(file, StandardCharsets.UTF_8));
            if (!e.isJsonObject()) {
                throw new IllegalArgumentException(file + ": expected a JSON object");
            }
            return e.getAsJsonObject();
        } catch (JsonParseException e) {
            throw new IllegalArgumentException(file + ": malformed JSON: " + e.getMessage(), e);
        }
    }

    private static IllegalArgumentException wrongType(Path file, String field, String expected) {
        return new IllegalArgumentException(file + ": field '" + field + "' must be " + expected);
    }

    private static String templateField(JsonElement e, Path file) {
        if (e.isJsonPrimitive() && e.getAsJsonPrimitive().isString()) {
            return e.getAsString();
        } else if (!e.isJsonArray()) {
            throw wrongType(file, "chat_template", "a string or a list of {\"name\", \"template\"} objects");
        }
        List<String> names = new ArrayList<>();
        for (JsonElement item : e.getAsJsonArray()) {
            if (!item.isJsonObject()
                    || !isString(item.getAsJsonObject().get("name"))
                    || !isString(item.getAsJsonObject().get("template"))) {
                throw wrongType(file, "chat_template", "a string or a list of {\"name\", \"template\"} objects");
            }
            String name = item.getAsJsonObject().get("name").getAsString();
            if (name.equals("default")) {
                return item.getAsJsonObject().get("template").getAsString();
            }
            names.add(name);
        }
        throw new IllegalArgumentException(file + ": field 'chat_template' has multiple templates and none named "
                + "'default' (names: " + names.stream().sorted().toList() + ")");
    }

    private static boolean isString(JsonElement e) {
        return e != null && e.isJsonPrimitive() && e.getAsJsonPrimitive().isString();
    }

    /** A token: a string, or an AddedToken object with a string {@code content}; {@code null} when absent. */
    private static String token(JsonElement e, Path file, String field) {
        if (e == null || e.isJsonNull()) {
            return null;
        } else if (isString(e)) {
            return e.getAsString();
        } else if (e.isJsonObject() && isString(e.getAsJsonObject().get("content"))) {
            return e.getAsJsonObject().get("content").getAsString();
        }
        throw wrongType(file, field, "a string or an AddedToken object with a string 'content'");
    }

    private static void addTokens(Map<String, Object> tokens, JsonObject o, Path file) {
        for (String key : TOKENS) {
            String t = token(o.get(key), file, key);
            if (t != null) {
                tokens.put(key, t);
            }
        }
        JsonElement extra = o.get("additional_special_tokens");
        if (extra != null && !extra.isJsonNull()) {
            if (!extra.isJsonArray()) {
                throw wrongType(file, "additional_special_tokens", "a list");
            }
            List<String> list = new ArrayList<>();
            JsonArray a = extra.getAsJsonArray();
            for (int i = 0; i < a.size(); i++) {
                String t = token(a.get(i), file, "additional_special_tokens[" + i + "]");
                if (t != null && !list.contains(t)) {
                    list.add(t);
                }
            }
            tokens.put("additional_special_tokens", List.copyOf(list));
        }
        JsonElement named = o.get("extra_special_tokens");
        if (named != null && !named.isJsonNull()) {
            if (!named.isJsonObject()) {
                throw wrongType(file, "extra_special_tokens", "an object of name: token");
            }
            for (Map.Entry<String, JsonElement> e : named.getAsJsonObject().entrySet()) {
                String t = token(e.getValue(), file, "extra_special_tokens." + e.getKey());
                if (t != null) {
                    tokens.put(e.getKey(), t);
                }
            }
        }
    }
}
