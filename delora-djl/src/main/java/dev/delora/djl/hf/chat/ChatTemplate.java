package dev.delora.djl.hf.chat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * A Hugging Face chat template, rendered as transformers' {@code tokenizer.apply_chat_template(messages,
 * add_generation_prompt=..., tokenize=False)} renders it (transformers 4.57, jinja2 3.1 in an immutable sandbox with
 * {@code trim_blocks} and {@code lstrip_blocks}, {@code raise_exception}, {@code strftime_now} and transformers'
 * {@code tojson}).
 *
 * <p>The template is parsed once; instances are immutable and may render from any number of threads. Jinja syntax
 * outside what chat templates use (see the package documentation) is refused at parse time rather than rendered
 * differently.
 */
public final class ChatTemplate {

    private final String template;
    private final String origin;
    private final Map<String, Object> specialTokens;
    private final List<Stmt> body;

    private ChatTemplate(String template, String origin, Map<String, Object> specialTokens) {
        this.template = Objects.requireNonNull(template, "template");
        this.origin = origin;
        this.specialTokens = Collections.unmodifiableMap(new LinkedHashMap<>(specialTokens));
        try {
            this.body = Parser.parse(template);
        } catch (PyError e) {
            throw failure(e);
        }
    }

    static ChatTemplate create(String template, String origin, Map<String, Object> specialTokens) {
        return new ChatTemplate(template, origin, specialTokens);
    }

    /**
     * Reads a model folder's chat template as transformers 4.57 does: {@code chat_template.jinja} when present,
     * else {@code tokenizer_config.json}'s {@code chat_template} (a string, or a list of {@code {"name",
     * "template"}} of which {@code "default"} is used). The special tokens of {@code tokenizer_config.json} and
     * {@code special_tokens_map.json} ({@code bos_token}, {@code eos_token}, ..., plain strings or AddedToken
     * objects) become template variables, as transformers' {@code special_tokens_map}.
     *
     * @param folder a Hugging Face model or tokenizer folder
     * @return the template
     * @throws IOException if a file cannot be read
     * @throws IllegalArgumentException if the folder has no chat template (the message names the files looked at),
     *     a JSON file is malformed or a field has the wrong type (the message names file and field)
     * @throws ChatTemplateException if the template does not parse (the message names the file and line)
     */
    public static ChatTemplate fromFolder(Path folder) throws IOException {
        return TemplateFolder.load(folder);
    }

    /**
     * Reads a model folder's chat template as {@link #fromFolder} does, or returns empty when the folder has none (no
     * {@code chat_template.jinja} and no {@code chat_template} field, e.g. a base model's tokenizer).
     *
     * @param folder a Hugging Face model or tokenizer folder
     * @return the template, if the folder has one
     * @throws IOException if a file cannot be read
     * @throws IllegalArgumentException if a JSON file is malformed or a field has the wrong type
     * @throws ChatTemplateException if the template does not parse
     */
    public static Optional<ChatTemplate> findInFolder(Path folder) throws IOException {
        return TemplateFolder.find(folder);
    }

    /**
     * Parses a template string.
     *
     * @param template the Jinja source
     * @param specialTokens variables such as {@code bos_token} and {@code eos_token} (may be empty)
     * @return the template
     * @throws ChatTemplateException if the template does not parse (the message names the line)
     */
    public static ChatTemplate of(String template, Map<String, String> specialTokens) {
        return new ChatTemplate(template, "chat_template", new LinkedHashMap<>(specialTokens));
    }

    /**
     * Returns the Jinja source.
     *
     * @return the template text
     */
    public String template() {
        return template;
    }

    /**
     * Returns where the template came from, as errors name it ({@code chat_template of <file>}).
     *
     * @return the origin
     */
    public String origin() {
        return origin;
    }

    /**
     * Returns the special-token variables every render gets (strings; {@code additional_special_tokens} is a list).
     *
     * @return an unmodifiable map
     */
    public Map<String, Object> specialTokens() {
        return specialTokens;
    }

    /**
     * Renders a conversation, as {@code apply_chat_template(messages, add_generation_prompt=...,
     * tokenize=False)}.
     *
     * @param messages the conversation
     * @param addGenerationPrompt whether to append the assistant-turn header
     * @return the prompt text
     * @throws ChatTemplateException if the template raises (e.g. roles that do not alternate) or fails
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        Map<String, Object> context = new LinkedHashMap<>();
        context.put("messages", new ArrayList<Object>(messages));
        context.put("add_generation_prompt", addGenerationPrompt);
        return render(context);
    }

    /**
     * Renders with explicit variables, as transformers' keyword arguments: {@code messages} (maps with {@code role},
     * {@code content} and any other keys such as {@code tool_calls}), {@code tools}, {@code documents},
     * {@code add_generation_prompt} and any extra variable (e.g. {@code enable_thinking}, {@code date_string}).
     * Values may be String, Number, Boolean, null, List, Map or {@link ChatMessage}. The special tokens, and
     * {@code tools = None}, {@code documents = None}, {@code add_generation_prompt = False}, are defaults the
     * context overrides.
     *
     * @param context the template variables
     * @return the rendered text
     * @throws ChatTemplateException if the template raises or fails
     * @throws IllegalArgumentException if a context value has an unsupported type
     */
    public String render(Map<String, Object> context) {
        Scope root = new Scope(null);
        specialTokens.forEach((k, v) -> root.set(k, Py.fromJava(v)));
        root.set("tools", null);
        root.set("documents", null);
        root.set("add_generation_prompt", false);
        context.forEach((k, v) -> root.set(k, Py.fromJava(v)));
        StringBuilder out = new StringBuilder();
        try {
            Stmt.run(body, root, out);
        } catch (PyError e) {
            throw failure(e);
        } catch (StackOverflowError e) {
            throw failure(new PyError("RecursionError", "maximum recursion depth exceeded"));
        }
        return out.toString();
    }

    private ChatTemplateException failure(PyError e) {
        if (e.kind.equals("TemplateError")) {
            return new ChatTemplateException(e.reason, e.kind, e.reason, e.line);
        }
        String where = origin + (e.line > 0 ? ", line " + e.line : "");
        return new ChatTemplateException(where + ": " + e.kind + ": " + e.reason, e.kind, e.reason, e.line);
    }

    @Override
    public String toString() {
        return "ChatTemplate[" + origin + "]";
    }
}
