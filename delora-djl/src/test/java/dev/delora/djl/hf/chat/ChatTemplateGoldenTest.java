package dev.delora.djl.hf.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.delora.fixtures.Fixtures;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every case of {@code chat/chat_templates.json} (rendered by transformers 4.57.6 / jinja2 3.1.6, see
 * {@code src-test-fixtures/parity/chat_templates.py}) renders to exactly the same text, or fails the same way.
 */
class ChatTemplateGoldenTest {

    private static final JsonObject GOLDEN =
            JsonParser.parseString(Fixtures.text("chat/chat_templates.json")).getAsJsonObject();

    /** Converts JSON to the values a caller passes: ints stay ints (Long), other numbers are Doubles. */
    static Object value(JsonElement e) {
        if (e == null || e.isJsonNull()) {
            return null;
        } else if (e.isJsonObject()) {
            Map<String, Object> m = new LinkedHashMap<>();
            e.getAsJsonObject().entrySet().forEach(x -> m.put(x.getKey(), value(x.getValue())));
            return m;
        } else if (e.isJsonArray()) {
            List<Object> l = new ArrayList<>();
            e.getAsJsonArray().forEach(x -> l.add(value(x)));
            return l;
        } else if (e.getAsJsonPrimitive().isBoolean()) {
            return e.getAsBoolean();
        } else if (e.getAsJsonPrimitive().isNumber()) {
            String s = e.getAsString();
            return s.contains(".") || s.contains("e") || s.contains("E") ? (Object) e.getAsDouble() : e.getAsLong();
        }
        return e.getAsString();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, String> tokens(JsonObject c) {
        Map<String, String> out = new LinkedHashMap<>();
        ((Map<String, Object>) value(c.get("special_tokens"))).forEach((k, v) -> out.put(k, (String) v));
        return out;
    }

    @SuppressWarnings("unchecked")
    private static void check(JsonObject c) {
        String source = c.get("source").getAsString();
        Map<String, Object> context = (Map<String, Object>) value(c.get("context"));
        if (c.has("expected")) {
            ChatTemplate t = ChatTemplate.of(source, tokens(c));
            assertEquals(c.get("expected").getAsString(), t.render(context));
            return;
        }
        JsonObject err = c.getAsJsonObject("error");
        String type = err.get("type").getAsString();
        ChatTemplateException e = assertThrows(
                ChatTemplateException.class,
                () -> ChatTemplate.of(source, tokens(c)).render(context));
        assertEquals(type, e.kind(), e.getMessage());
        if (type.equals("TemplateSyntaxError")) {
            int line = err.get("line").getAsInt();
            assertEquals(line, e.line(), e.getMessage());
            assertTrue(e.getMessage().startsWith("chat_template, line " + line + ": "), e.getMessage());
        } else {
            assertEquals(err.get("message").getAsString(), e.reason());
            if (type.equals("TemplateError")) {
                assertEquals(err.get("message").getAsString(), e.getMessage());
            }
        }
    }

    @TestFactory
    Stream<DynamicTest> everyGoldenCaseMatches() {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonElement e : GOLDEN.getAsJsonArray("cases")) {
            JsonObject c = e.getAsJsonObject();
            String name = c.get("template").getAsString() + " " + c.get("case").getAsString();
            tests.add(DynamicTest.dynamicTest(name, () -> check(c)));
        }
        return tests.stream();
    }

    @Test
    void goldenCoversTheModelTemplates() {
        List<String> names = new ArrayList<>();
        GOLDEN.getAsJsonArray("cases")
                .forEach(e -> names.add(e.getAsJsonObject().get("template").getAsString()));
        for (String t : List.of(
                "smollm2",
                "qwen2.5-instruct",
                "qwen3",
                "mistral-7b-instruct-v0.3",
                "llama-3.2-instruct",
                "gemma-2",
                "phi-3",
                "zephyr-7b-beta",
                "qwen3-style-macros-written")) {
            assertTrue(names.contains(t), t);
        }
        assertEquals("4.57.6", GOLDEN.get("transformers").getAsString());
    }
}
