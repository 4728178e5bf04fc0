package dev.delora.examples.glue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A malformed row's error names the 1-based line in the file ({@code <file>:<line>: ...}), not a row index: the
 * header, blank lines and every line ending ({@code \n}, {@code \r\n}, {@code \r}) count, a byte-order mark does not,
 * quotes never join lines, and invalid UTF-8 is reported on its own line however far into the file it is.
 */
class GlueTsvLineNumbersTest {

    @TempDir
    Path dir;

    private GlueFormatException fail(GlueTask task, String content) throws IOException {
        return fail(task, content.getBytes(StandardCharsets.UTF_8));
    }

    private GlueFormatException fail(GlueTask task, byte[] content) throws IOException {
        Path f = dir.resolve("dev.tsv");
        Files.write(f, content);
        GlueFormatException e = assertThrows(GlueFormatException.class, () -> GlueTsvReader.read(task, f));
        assertEquals(f.toString(), e.source());
        return e;
    }

    @Test
    void crlfBlankLinesAndBomCountAsInTheFile() throws IOException {
        GlueFormatException e = fail(GlueTask.SST2, "\uFEFFsentence\tlabel\r\n\r\ngood .\t1\r\n\r\nbad .\t2\r\n");
        assertEquals(5, e.line());
        assertEquals(
                dir.resolve("dev.tsv") + ":5: unexpected sst2 label (found '2', expected one of 0, 1)", e.getMessage());
    }

    @Test
    void aLoneCarriageReturnEndsALine() throws IOException {
        GlueFormatException e = fail(GlueTask.SST2, "sentence\tlabel\rgood .\t1\r\rno label\r");
        assertEquals(4, e.line());
        assertEquals(
                dir.resolve("dev.tsv")
                        + ":4: wrong number of tab-separated columns for sst2 (found 1, expected 2: sentence | label)",
                e.getMessage());
    }

    @Test
    void quotesNeverJoinLines() throws IOException {
        // with CSV quoting, lines 2 and 3 would be one record and the error would move; GLUE reads QUOTE_NONE
        GlueFormatException e =
                fail(GlueTask.SST2, "sentence\tlabel\n\"opens a quote\t1\ncloses it\"\t0\n\"quoted\"\t1\tx\n");
        assertEquals(4, e.line());
        assertEquals(
                dir.resolve("dev.tsv")
                        + ":4: wrong number of tab-separated columns for sst2 (found 3, expected 2: sentence | label)",
                e.getMessage());
    }

    @Test
    void colaHasNoHeaderSoItsFirstLineIsARow() throws IOException {
        GlueFormatException e = fail(GlueTask.COLA, "gj04\t1\t\tOne .\n\ngj04\t1\tTwo .\n");
        assertEquals(3, e.line());
        assertEquals(
                dir.resolve("dev.tsv") + ":3: wrong number of tab-separated columns for cola (found 3, expected 4: "
                        + "source | label | mark | sentence)",
                e.getMessage());
    }

    @Test
    void invalidUtf8FarIntoTheFileNamesItsLine() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.writeBytes("sentence\tlabel\n".getBytes(StandardCharsets.UTF_8));
        for (int i = 2; i <= 1000; i++) {
            if (i == 700) {
                bytes.writeBytes("ok".getBytes(StandardCharsets.UTF_8));
                bytes.write(0xFF);
            }
            bytes.writeBytes(("a sentence of line " + i + " .\t1\n").getBytes(StandardCharsets.UTF_8));
        }
        GlueFormatException e = fail(GlueTask.SST2, bytes.toByteArray());
        assertEquals(700, e.line());
        assertEquals(
                dir.resolve("dev.tsv")
                        + ":700: not valid UTF-8 (found byte 0xFF at byte 3 of the line, expected UTF-8 text)",
                e.getMessage());
    }

    @Test
    void aHeaderAfterBlankLinesIsNamedByItsLine() throws IOException {
        GlueFormatException e = fail(GlueTask.QNLI, "\n\nindex\tsentence1\tsentence2\tlabel\n");
        assertEquals(3, e.line());
        assertEquals(
                dir.resolve("dev.tsv") + ":3: header lacks the column 'question' needed for qnli (found index | "
                        + "sentence1 | sentence2 | label)",
                e.getMessage());
    }

    @Test
    void longLinesAndMultiByteTextAcrossReadBuffersStayIntact() throws IOException {
        String text = "é ✓ 😀 ".repeat(20_000); // > 64 KiB of UTF-8, multi-byte characters crossing buffer ends
        Path f = dir.resolve("train.tsv");
        Files.writeString(f, "sentence\tlabel\r\n" + text + "\t1\r" + "two .\t0", StandardCharsets.UTF_8);
        List<GlueExample> rows = GlueTsvReader.read(GlueTask.SST2, f);
        assertEquals(2, rows.size());
        assertEquals(text, rows.get(0).textA());
        assertEquals("two .", rows.get(1).textA());
    }
}
