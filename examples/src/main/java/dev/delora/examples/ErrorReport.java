package dev.delora.examples;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import picocli.CommandLine.ParameterException;

/**
 * How the command line reports an exception that reaches it: one line {@code error: <message>}, exit status 2 for
 * the user's errors and 1 for internal ones, the stack trace only on request ({@code --debug}).
 */
final class ErrorReport {

    /** Exit status of a user error: a bad option or value, a missing or unreadable file, malformed data. */
    static final int USER = 2;

    /** Exit status of an internal error: anything else (a bug, an engine failure). */
    static final int INTERNAL = 1;

    /** The longest message printed; the rest is cut (the stack trace under {@code --debug} has it all). */
    static final int MAX_MESSAGE = 300;

    private ErrorReport() {}

    /**
     * Prints the one-line report, and the stack trace when asked.
     *
     * @param ex the exception
     * @param err where to print
     * @param debug whether to print the stack trace too
     * @return the exit status
     */
    static int print(Exception ex, PrintWriter err, boolean debug) {
        int status = status(ex);
        String line = "error: " + message(ex);
        if (status == INTERNAL && !debug) {
            line += " (internal error; --debug prints the stack trace)";
        }
        err.println(line);
        if (debug) {
            ex.printStackTrace(err);
        }
        err.flush();
        return status;
    }

    /**
     * Returns {@link #USER} for an {@link IllegalArgumentException} or an I/O error (missing file, malformed data,
     * failed download), else {@link #INTERNAL}.
     *
     * @param ex the exception
     * @return the exit status
     */
    static int status(Throwable ex) {
        return ex instanceof IllegalArgumentException
                        || ex instanceof IOException
                        || ex instanceof UncheckedIOException
                        || ex instanceof ParameterException
                ? USER
                : INTERNAL;
    }

    /**
     * Returns the exception's message on one line, at most {@link #MAX_MESSAGE} characters. A file error without a
     * reason says what happened to the file; an internal error and an empty message get the exception's class name.
     *
     * @param ex the exception
     * @return the message
     */
    static String message(Throwable ex) {
        Throwable shown = ex instanceof UncheckedIOException && ex.getCause() != null ? ex.getCause() : ex;
        String msg = shown.getMessage() == null ? "" : shown.getMessage().strip();
        String name = shown.getClass().getSimpleName();
        if (shown instanceof FileSystemException f && f.getReason() == null && !msg.isEmpty()) {
            msg = (shown instanceof NoSuchFileException
                            ? "no such file: "
                            : shown instanceof AccessDeniedException ? "access denied: " : name + ": ")
                    + msg;
        } else if (msg.isEmpty()) {
            msg = name;
        } else if (status(shown) == INTERNAL) {
            msg = name + ": " + msg;
        }
        msg = msg.replaceAll("\\s*\\R\\s*", " ");
        return msg.length() <= MAX_MESSAGE ? msg : msg.substring(0, MAX_MESSAGE - 3) + "...";
    }
}
