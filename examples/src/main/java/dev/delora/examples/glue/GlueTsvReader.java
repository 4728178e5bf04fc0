package dev.delora.examples.glue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Reads the original GLUE TSV files into {@link GlueExample}s, reproducing what the Hugging Face {@code glue}
 * dataset builder reads from them ({@code csv} with {@code delimiter="\t"} and {@code quoting=QUOTE_NONE}).
 *
 * <p>Rules:
 * <ul>
 *   <li>Fields are split on tab only. GLUE texts contain unbalanced {@code "} characters, so quotes are plain
 *       text, never CSV quoting.</li>
 *   <li>Lines end at {@code \n}, {@code \r\n} or {@code \r} (Python's universal newlines). Blank lines are
 *       skipped, as {@code csv.DictReader} does, and do not count as rows (they do count as lines).</li>
 *   <li>A leading UTF-8 byte-order mark (MRPC) is dropped. Invalid UTF-8 is an error naming its line.</li>
 *   <li>Files with a header are read by column name; every row must have as many columns as the header.
 *       CoLA (no header) is read by position and needs exactly 4 columns.</li>
 *   <li>Unlike Hugging Face, which silently drops rows with missing fields, any malformed row is an error
 *       ({@link GlueFormatException}: {@code <file>:<line>: <what> (found …, expected …)}, the 1-based line
 *       in the file, not the row index).</li>
 * </ul>
 */
public final class GlueTsvReader {

    private static final char BOM = '\uFEFF';

    private GlueTsvReader() {}

    /**
     * Reads a GLUE TSV file.
     *
     * @param task the task whose layout the file has
     * @param file the TSV file
     * @return the examples in file order
     * @throws GlueFormatException if the file is malformed (names the file and line)
     * @throws IOException if the file cannot be read
     */
    public static List<GlueExample> read(GlueTask task, Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return read(task, in, file.toString());
        }
    }

    /**
     * Reads GLUE TSV content from a stream (for example a class-path resource). The stream is not closed.
     *
     * @param task the task whose layout the content has
     * @param in the UTF-8 content
     * @param sourceName the name used in error messages
     * @return the examples in file order
     * @throws GlueFormatException if the content is malformed (names the source and line)
     * @throws IOException if the stream cannot be read
     */
    public static List<GlueExample> read(GlueTask task, InputStream in, String sourceName) throws IOException {
        Lines lines = new Lines(in, sourceName);
        List<GlueExample> out = new ArrayList<>();
        String[] header = null;
        int colA = -1;
        int colB = -1;
        int colLabel = -1;
        int expectedColumns = GlueTask.COLA_COLUMNS;
        for (String line; (line = lines.next()) != null; ) {
            int lineNo = lines.number();
            if (lineNo == 1 && !line.isEmpty() && line.charAt(0) == BOM) {
                line = line.substring(1);
            }
            if (line.isEmpty()) {
                continue;
            }
            String[] cols = line.split("\t", -1);
            if (task.hasHeader() && header == null) {
                header = cols;
                colA = column(header, task.textColumnA(), task, sourceName, lineNo);
                colB = task.textColumnB() == null ? -1 : column(header, task.textColumnB(), task, sourceName, lineNo);
                colLabel = column(header, task.labelColumn(), task, sourceName, lineNo);
                expectedColumns = header.length;
                continue;
            }
            if (cols.length != expectedColumns) {
                throw new GlueFormatException(
                        sourceName,
                        lineNo,
                        "wrong number of tab-separated columns for " + task.id() + " (found " + cols.length
                                + ", expected " + expectedColumns + ": "
                                + (header != null ? String.join(" | ", header) : "source | label | mark | sentence")
                                + ")");
            }
            String textA;
            Optional<String> textB;
            String rawLabel;
            if (header == null) {
                textA = cols[GlueTask.COLA_SENTENCE_COLUMN];
                textB = Optional.empty();
                rawLabel = cols[GlueTask.COLA_LABEL_COLUMN];
            } else {
                textA = cols[colA];
                textB = colB < 0 ? Optional.empty() : Optional.of(cols[colB]);
                rawLabel = cols[colLabel];
            }
            float label;
            try {
                label = task.parseLabel(rawLabel);
            } catch (IllegalArgumentException e) {
                throw new GlueFormatException(
                        sourceName,
                        lineNo,
                        task.isRegression()
                                ? "unparsable " + task.id() + " score (found '" + rawLabel
                                        + "', expected a decimal number)"
                                : "unexpected " + task.id() + " label (found '" + rawLabel + "', expected one of "
                                        + String.join(", ", task.allowedRawLabels()) + ")");
            }
            out.add(new GlueExample(textA, textB, label, out.size()));
        }
        if (task.hasHeader() && header == null) {
            throw new GlueFormatException(
                    sourceName,
                    Math.max(lines.number(), 1),
                    "no header (found an empty file, expected a header naming the " + task.id() + " columns)");
        }
        return out;
    }

    private static int column(String[] header, String name, GlueTask task, String source, int line)
            throws GlueFormatException {
        int idx = Arrays.asList(header).indexOf(name);
        if (idx < 0) {
            throw new GlueFormatException(
                    source,
                    line,
                    "header lacks the column '" + name + "' needed for " + task.id() + " (found "
                            + String.join(" | ", header) + ")");
        }
        return idx;
    }

    /**
     * Splits bytes into lines as Python's universal newlines do ({@code \n}, {@code \r\n}, {@code \r}) and decodes
     * each line on its own, so a decoding error names the line that holds the bad bytes (a buffered reader decodes
     * ahead and would fail on an earlier line).
     */
    private static final class Lines {
        private final InputStream in;
        private final String source;
        private final byte[] buf = new byte[1 << 16];
        private final CharsetDecoder decoder = StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        private byte[] line = new byte[256];
        private int pos;
        private int limit;
        private int number;

        Lines(InputStream in, String source) {
            this.in = in;
            this.source = source;
        }

        /** The 1-based number of the line last returned (0 before the first). */
        int number() {
            return number;
        }

        /** Returns the next line without its terminator, or {@code null} at the end. */
        String next() throws IOException {
            int len = 0;
            boolean any = false;
            while (true) {
                if (pos == limit && !fill()) {
                    if (!any) {
                        return null;
                    }
                    break;
                }
                any = true;
                byte b = buf[pos++];
                if (b == '\n') {
                    break;
                }
                if (b == '\r') {
                    if ((pos < limit || fill()) && buf[pos] == '\n') {
                        pos++;
                    }
                    break;
                }
                if (len == line.length) {
                    line = Arrays.copyOf(line, len * 2);
                }
                line[len++] = b;
            }
            number++;
            return decode(len);
        }

        private boolean fill() throws IOException {
            int n = in.read(buf);
            pos = 0;
            limit = Math.max(n, 0);
            return n > 0;
        }

        private String decode(int len) throws GlueFormatException {
            ByteBuffer bytes = ByteBuffer.wrap(line, 0, len);
            CharBuffer chars = CharBuffer.allocate(len);
            decoder.reset();
            CoderResult r = decoder.decode(bytes, chars, true);
            if (!r.isError()) {
                r = decoder.flush(chars);
            }
            if (r.isError()) {
                int at = bytes.position();
                StringBuilder found = new StringBuilder();
                for (int i = at; i < Math.min(len, at + Math.max(r.length(), 1)); i++) {
                    found.append(String.format(Locale.ROOT, "%s0x%02X", found.length() == 0 ? "" : " ", line[i]));
                }
                throw new GlueFormatException(
                        source,
                        number,
                        "not valid UTF-8 (found byte " + found + " at byte " + (at + 1)
                                + " of the line, expected UTF-8 text)");
            }
            return chars.flip().toString();
        }
    }
}
