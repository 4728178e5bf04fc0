package dev.delora.examples.glue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
 *       skipped, as {@code csv.DictReader} does, and do not count as rows.</li>
 *   <li>A leading UTF-8 byte-order mark (MRPC) is dropped. Invalid UTF-8 is an error.</li>
 *   <li>Files with a header are read by column name; every row must have as many columns as the header.
 *       CoLA (no header) is read by position and needs exactly 4 columns.</li>
 *   <li>Unlike Hugging Face, which silently drops rows with missing fields, any malformed row is an error
 *       ({@link GlueFormatException} naming file and 1-based line).</li>
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
        CharsetDecoder decoder = StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        BufferedReader reader = new BufferedReader(new InputStreamReader(in, decoder));
        List<GlueExample> out = new ArrayList<>();
        int lineNo = 0;
        String[] header = null;
        int colA = -1;
        int colB = -1;
        int colLabel = -1;
        int expectedColumns = GlueTask.COLA_COLUMNS;
        String line;
        while (true) {
            try {
                line = reader.readLine();
            } catch (CharacterCodingException e) {
                throw new GlueFormatException(sourceName, lineNo + 1, "not valid UTF-8 (" + e + ")");
            }
            if (line == null) {
                break;
            }
            lineNo++;
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
                        "expected " + expectedColumns + " tab-separated "
                                + "columns for " + task.id()
                                + (header != null
                                        ? " (header: " + String.join(" | ", header) + ")"
                                        : " (source, label, mark, sentence)")
                                + " but found " + cols.length);
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
                throw new GlueFormatException(sourceName, lineNo, e.getMessage());
            }
            out.add(new GlueExample(textA, textB, label, out.size()));
        }
        if (task.hasHeader() && header == null) {
            throw new GlueFormatException(
                    sourceName,
                    Math.max(lineNo, 1),
                    "empty file: expected a header naming " + "the " + task.id() + " columns");
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
                    "header has no column '" + name + "' needed for " + task.id() + "; found columns: "
                            + String.join(" | ", header));
        }
        return idx;
    }
}
