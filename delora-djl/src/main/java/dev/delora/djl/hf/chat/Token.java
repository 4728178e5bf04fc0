package dev.delora.djl.hf.chat;

/**
 * A lexer token.
 *
 * @param type the kind
 * @param value the text (for strings: the decoded value)
 * @param line the 1-based template line
 */
record Token(Type type, String value, int line) {

    /** Token kinds, as jinja2's. */
    enum Type {
        DATA,
        BLOCK_BEGIN,
        BLOCK_END,
        VARIABLE_BEGIN,
        VARIABLE_END,
        NAME,
        STRING,
        INTEGER,
        FLOAT,
        OPERATOR,
        EOF
    }

    boolean is(Type t, String v) {
        return type == t && value.equals(v);
    }

    boolean isName(String v) {
        return is(Type.NAME, v);
    }

    boolean isOp(String v) {
        return is(Type.OPERATOR, v);
    }

    String describe() {
        return switch (type) {
            case EOF -> "end of template";
            case BLOCK_END -> "end of statement block";
            case VARIABLE_END -> "end of print statement";
            case STRING -> "string";
            default -> "'" + value + "'";
        };
    }
}
