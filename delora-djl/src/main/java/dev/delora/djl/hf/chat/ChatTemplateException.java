package dev.delora.djl.hf.chat;

/**
 * A chat template that does not parse, or that fails while rendering.
 *
 * <p>For the template's own {@code raise_exception("...")} the message is exactly the template's text (as
 * transformers' {@code TemplateError}); otherwise it names the template source and line, then the jinja2 / Python
 * error, e.g. {@code chat_template of model/tokenizer_config.json, line 3: UndefinedError: 'x' is undefined}.
 */
public final class ChatTemplateException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final String kind;
    private final String reason;
    private final int line;

    ChatTemplateException(String message, String kind, String reason, int line) {
        super(message);
        this.kind = kind;
        this.reason = reason;
        this.line = line;
    }

    /**
     * The error class jinja2 / Python would raise: {@code TemplateError} for {@code raise_exception},
     * {@code TemplateSyntaxError}, {@code UndefinedError}, {@code TypeError}, {@code SecurityError}, ...
     *
     * @return the error kind
     */
    public String kind() {
        return kind;
    }

    /**
     * The error's own message, without source and line (what {@code str(e)} gives in Python).
     *
     * @return the reason
     */
    public String reason() {
        return reason;
    }

    /**
     * The 1-based template line of the failing statement, or 0 when unknown.
     *
     * @return the line
     */
    public int line() {
        return line;
    }
}
