package dev.delora.djl.hf.chat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.delora.fixtures.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading templates from folders, errors with file and line, and rendering from many threads. */
class ChatTemplateTest {

    private static final String SMOL = Fixtures.text("chat/templates/smollm2.jinja");
    private static final String SMOL_SYS_USER = "<|im_start|>system\nYou are a terse assistant.<|im_end|>\n"
            + "<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n";

    private static final List<ChatMessage> SYS_USER =
            List.of(ChatMessage.system("You are a terse assistant."), ChatMessage.user("Hello!"));

    private static String json(String s) {
        return new com.google.gson.Gson().toJson(s);
    }

    @Test
    void rendersMessagesLikeTransformers() {
        ChatTemplate t = ChatTemplate.of(SMOL, Map.of("eos_token", "<|im_end|>"));
        assertEquals(SMOL_SYS_USER, t.render(SYS_USER, true));
        assertTrue(t.render(List.of(ChatMessage.user("hi")), false)
                .startsWith("<|im_start|>system\nYou are a helpful AI assistant named SmolLM"));
    }

    @Test
    void syntaxErrorsNameTheSourceAndLine(@TempDir Path dir) throws Exception {
        ChatTemplateException e = assertThrows(
                ChatTemplateException.class, () -> ChatTemplate.of("ok\n{% if x %}\n{{ x | nosuchfilter }}", Map.of()));
        assertEquals(3, e.line());
        assertEquals("chat_template, line 3: TemplateSyntaxError: No filter named 'nosuchfilter'.", e.getMessage());
        Files.writeString(dir.resolve("chat_template.jinja"), "a\nb\n{% for x in xs %}{% include 'x' %}");
        e = assertThrows(ChatTemplateException.class, () -> ChatTemplate.fromFolder(dir));
        assertTrue(
                e.getMessage().startsWith("chat_template of " + dir.resolve("chat_template.jinja") + ", line 3: "),
                e.getMessage());
        assertTrue(e.getMessage().contains("'include'"), e.getMessage());
    }

    @Test
    void raiseExceptionCarriesTheTemplatesMessage() {
        ChatTemplate t = ChatTemplate.of(Fixtures.text("chat/templates/gemma-2.jinja"), Map.of("bos_token", "<bos>"));
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> t.render(SYS_USER, true));
        assertEquals("System role not supported", e.getMessage());
        assertEquals("TemplateError", e.kind());
        ChatTemplateException u = assertThrows(
                ChatTemplateException.class,
                () -> ChatTemplate.of("\n{{ a.b }}", Map.of()).render(Map.of()));
        assertEquals("chat_template, line 2: UndefinedError: 'a' is undefined", u.getMessage());
    }

    @Test
    void readsTokenizerConfigWithStringTemplateAndAddedTokens(@TempDir Path dir) throws Exception {
        Files.writeString(
                dir.resolve("tokenizer_config.json"),
                "{\"chat_template\": " + json(SMOL)
                        + ", \"bos_token\": {\"content\": \"<s>\", \"lstrip\": false, \"__type\": \"AddedToken\"},"
                        + " \"eos_token\": \"<|im_end|>\", \"pad_token\": null, \"unk_token\": \"\","
                        + " \"additional_special_tokens\": [\"<a>\", {\"content\": \"<b>\"}]}");
        ChatTemplate t = ChatTemplate.fromFolder(dir);
        assertEquals(SMOL_SYS_USER, t.render(SYS_USER, true));
        assertEquals(
                Map.of(
                        "bos_token",
                        "<s>",
                        "eos_token",
                        "<|im_end|>",
                        "additional_special_tokens",
                        List.of("<a>", "<b>")),
                t.specialTokens());
        assertEquals("chat_template of " + dir.resolve("tokenizer_config.json"), t.origin());
        ChatTemplate tokens = ChatTemplate.create(
                "{{ bos_token }}|{{ eos_token }}|{{ additional_special_tokens }}", "x", t.specialTokens());
        assertEquals("<s>|<|im_end|>|['<a>', '<b>']", tokens.render(Map.of()));
    }

    @Test
    void readsTheDefaultOfATemplateListAndSpecialTokensMap(@TempDir Path dir) throws Exception {
        Files.writeString(
                dir.resolve("tokenizer_config.json"),
                "{\"chat_template\": [{\"name\": \"tool_use\", "
                        + "\"template\": \"T\"}, {\"name\": \"default\", \"template\": \"D{{ eos_token }}{{ x }}\"}],"
                        + " \"eos_token\": \"</s>\", \"extra_special_tokens\": {\"image_token\": \"<img>\"}}");
        Files.writeString(dir.resolve("special_tokens_map.json"), "{\"eos_token\": {\"content\": \"<eos>\"}}");
        ChatTemplate t = ChatTemplate.fromFolder(dir);
        assertEquals("D<eos>1", t.render(Map.of("x", 1)));
        assertEquals("<img>", t.specialTokens().get("image_token"));
    }

    @Test
    void chatTemplateJinjaWinsOverTheConfig(@TempDir Path dir) throws Exception {
        Files.writeString(
                dir.resolve("tokenizer_config.json"), "{\"chat_template\": \"config\", \"eos_token\": \"E\"}");
        Files.writeString(dir.resolve("chat_template.jinja"), "jinja {{ eos_token }}\n");
        assertEquals("jinja E", ChatTemplate.fromFolder(dir).render(Map.of()));
    }

    @Test
    void refusesFoldersWithoutTemplateOrWithBadFields(@TempDir Path dir) throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ChatTemplate.fromFolder(dir));
        assertTrue(
                e.getMessage().contains(dir.toString())
                        && e.getMessage().contains("chat_template.jinja")
                        && e.getMessage().contains("tokenizer_config.json"),
                e.getMessage());
        Path cfg = dir.resolve("tokenizer_config.json");
        Files.writeString(cfg, "{\"eos_token\": \"x\"}");
        e = assertThrows(IllegalArgumentException.class, () -> ChatTemplate.fromFolder(dir));
        assertTrue(e.getMessage().startsWith("No chat template in " + dir), e.getMessage());
        Files.writeString(cfg, "{\"chat_template\": 3}");
        e = assertThrows(IllegalArgumentException.class, () -> ChatTemplate.fromFolder(dir));
        assertTrue(e.getMessage().startsWith(cfg + ": field 'chat_template'"), e.getMessage());
        Files.writeString(cfg, "{\"chat_template\": \"x\", \"bos_token\": [1]}");
        e = assertThrows(IllegalArgumentException.class, () -> ChatTemplate.fromFolder(dir));
        assertTrue(e.getMessage().startsWith(cfg + ": field 'bos_token'"), e.getMessage());
        Files.writeString(cfg, "{\"chat_template\": [{\"name\": \"a\", \"template\": \"x\"}]}");
        e = assertThrows(IllegalArgumentException.class, () -> ChatTemplate.fromFolder(dir));
        assertTrue(e.getMessage().contains("none named 'default'"), e.getMessage());
        Files.writeString(cfg, "{\"chat_template\": ");
        e = assertThrows(IllegalArgumentException.class, () -> ChatTemplate.fromFolder(dir));
        assertTrue(e.getMessage().startsWith(cfg + ": malformed JSON"), e.getMessage());
    }

    @Test
    void rendersFromManyThreads() throws Exception {
        ChatTemplate t = ChatTemplate.of(Fixtures.text("chat/templates/qwen3.jinja"), Map.of());
        String expected = t.render(SYS_USER, true);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<String>> results = new ArrayList<>();
            for (int i = 0; i < 64; i++) {
                results.add(pool.submit(() -> t.render(SYS_USER, true)));
            }
            for (Future<String> f : results) {
                assertEquals(expected, f.get());
            }
        } finally {
            pool.shutdown();
        }
    }

    @Test
    void contextValuesAreChecked() {
        ChatTemplate t = ChatTemplate.of("{{ messages[0].role }} {{ n }} {{ f }}", Map.of());
        assertEquals("user 3 2.5", t.render(Map.of("messages", List.of(ChatMessage.user("x")), "n", 3, "f", 2.5f)));
        assertThrows(IllegalArgumentException.class, () -> t.render(Map.of("n", new Object())));
        assertThrows(NullPointerException.class, () -> new ChatMessage(null, "x"));
    }
}
