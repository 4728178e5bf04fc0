package dev.delora.djl.hf.chat;

/**
 * A failure while rendering, named as jinja2 / Python name it ({@code UndefinedError}, {@code TypeError},
 * {@code TemplateError} for {@code raise_exception}, ...), with the template line once known.
 */
final class PyError extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The Python exception class name. */
    final String kind;

    /** The exception's message, as Python would print it. */
    final String reason;

    /** The 1-based template line, or 0 when not known yet. */
    final int line;

    PyError(String kind, String reason, int line) {
        super(kind + ": " + reason);
        this.kind = kind;
        this.reason = reason;
        this.line = line;
    }

    PyError(String kind, String reason) {
        this(kind, reason, 0);
    }

    static PyError type(String reason) {
        return new PyError("TypeError", reason);
    }

    static PyError value(String reason) {
        return new PyError("ValueError", reason);
    }

    /**
     * Returns this failure located at a line, unless it already has one.
     *
     * @param at the template line of the statement that failed
     * @return a failure with a line
     */
    PyError at(int at) {
        return line > 0 || at <= 0 ? this : new PyError(kind, reason, at);
    }
}
