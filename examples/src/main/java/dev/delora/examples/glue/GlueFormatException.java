package dev.delora.examples.glue;

import java.io.IOException;

/**
 * A GLUE TSV file does not have the expected layout. The message reads {@code <file>:<line>: <what> (found …,
 * expected …)}: the file, the 1-based line in the file (blank lines and the header count, a byte-order mark does
 * not), what is wrong, what was found and what was expected (the column count, the header names or the allowed
 * labels).
 */
public final class GlueFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    private final String source;
    private final int line;

    /**
     * Creates the exception.
     *
     * @param source the file (or resource) name
     * @param line the 1-based line number
     * @param problem what is wrong, what was found and what was expected
     */
    public GlueFormatException(String source, int line, String problem) {
        super(source + ":" + line + ": " + problem);
        this.source = source;
        this.line = line;
    }

    /**
     * Returns the file or resource name.
     *
     * @return the source name
     */
    public String source() {
        return source;
    }

    /**
     * Returns the 1-based line number of the offending line.
     *
     * @return the line number
     */
    public int line() {
        return line;
    }
}
