package dev.delora.examples.glue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.delora.fixtures.Fixtures;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reads the TSV samples of every layout and compares with what Python's csv module (QUOTE_NONE) and the Hugging
 * Face glue builder's label handling read from the same bytes ({@code glue/tsv/expected.json}, made by
 * {@code parity/glue_tsv_samples.py}).
 */
class GlueTsvReaderTest {

    @Test
    void everyLayoutReadsAsHuggingFaceDoes() throws IOException {
        JsonObject expected =
                JsonParser.parseString(Fixtures.text("glue/tsv/expected.json")).getAsJsonObject();
        assertEquals(9, expected.size());
        boolean sawQuote = false;
        for (Map.Entry<String, JsonElement> e : expected.entrySet()) {
            JsonObject spec = e.getValue().getAsJsonObject();
            GlueTask task = GlueTask.of(spec.get("task").getAsString());
            List<GlueExample> rows = GlueTsvReader.read(task, Fixtures.path("glue/tsv/" + e.getKey()));
            var want = spec.getAsJsonArray("rows");
            assertEquals(want.size(), rows.size(), e.getKey());
            for (int i = 0; i < rows.size(); i++) {
                JsonObject w = want.get(i).getAsJsonObject();
                GlueExample got = rows.get(i);
                String where = e.getKey() + " row " + i;
                assertEquals(w.get("a").getAsString(), got.textA(), where);
                Optional<String> b = w.get("b").isJsonNull()
                        ? Optional.empty()
                        : Optional.of(w.get("b").getAsString());
                assertEquals(b, got.textB(), where);
                assertEquals(w.get("label").getAsFloat(), got.label(), where);
                assertEquals(w.get("row").getAsInt(), got.rowIndex(), where);
                sawQuote |= got.textA().contains("\"") || got.textB().orElse("").contains("\"");
            }
        }
        assertTrue(sawQuote, "the samples must include quote characters that are not CSV quoting");
    }

    @Test
    void mrpcSampleReallyStartsWithABom() throws IOException {
        byte[] bytes = Files.readAllBytes(Fixtures.path("glue/tsv/mrpc/dev.tsv"));
        assertEquals((byte) 0xEF, bytes[0]);
        assertEquals((byte) 0xBB, bytes[1]);
        assertEquals((byte) 0xBF, bytes[2]);
        GlueExample first = GlueTsvReader.read(GlueTask.MRPC, Fixtures.path("glue/tsv/mrpc/dev.tsv"))
                .get(0);
        assertTrue(first.textB().orElseThrow().startsWith("\"The foodservice"), first.toString());
    }

    @Test
    void wrongColumnCountNamesFileAndLine() {
        Path file = Fixtures.path("glue/tsv/malformed/rte_wrong_columns/dev.tsv");
        GlueFormatException e = assertThrows(GlueFormatException.class, () -> GlueTsvReader.read(GlueTask.RTE, file));
        assertEquals(4, e.line());
        assertEquals(
                file + ":4: wrong number of tab-separated columns for rte (found 3, expected 4: index | sentence1 | "
                        + "sentence2 | label)",
                e.getMessage());
    }

    @Test
    void unparsableScoreNamesFileAndLine() {
        Path file = Fixtures.path("glue/tsv/malformed/stsb_bad_score/dev.tsv");
        GlueFormatException e = assertThrows(GlueFormatException.class, () -> GlueTsvReader.read(GlueTask.STSB, file));
        assertEquals(3, e.line());
        assertEquals(file + ":3: unparsable stsb score (found 'four', expected a decimal number)", e.getMessage());
    }

    @Test
    void unexpectedLabelListsAllowedLabels() {
        Path mnli = Fixtures.path("glue/tsv/malformed/mnli_unknown_label/dev_matched.tsv");
        GlueFormatException e = assertThrows(GlueFormatException.class, () -> GlueTsvReader.read(GlueTask.MNLI, mnli));
        assertEquals(3, e.line());
        assertTrue(
                e.getMessage().contains("'maybe'") && e.getMessage().contains("entailment, neutral, contradiction"),
                e.getMessage());
        Path sst2 = Fixtures.path("glue/tsv/malformed/sst2_label_2/dev.tsv");
        e = assertThrows(GlueFormatException.class, () -> GlueTsvReader.read(GlueTask.SST2, sst2));
        assertEquals(6, e.line());
        assertEquals(sst2 + ":6: unexpected sst2 label (found '2', expected one of 0, 1)", e.getMessage());
    }

    @Test
    void wrongTaskForAFileIsCaughtAtTheHeader() {
        Path rte = Fixtures.path("glue/tsv/rte/dev.tsv");
        GlueFormatException e = assertThrows(GlueFormatException.class, () -> GlueTsvReader.read(GlueTask.QNLI, rte));
        assertEquals(1, e.line());
        assertTrue(e.getMessage().contains("'question'") && e.getMessage().contains("sentence1"), e.getMessage());
        // CoLA has no header, so a headed file fails on its first line's label.
        e = assertThrows(
                GlueFormatException.class,
                () -> GlueTsvReader.read(GlueTask.COLA, Fixtures.path("glue/tsv/qnli/dev.tsv")));
        assertEquals(1, e.line());
    }

    @Test
    void invalidUtf8AndEmptyFilesAreErrors(@TempDir Path dir) throws IOException {
        Path bad = dir.resolve("dev.tsv");
        Files.write(bad, new byte[] {
            's',
            'e',
            'n',
            't',
            'e',
            'n',
            'c',
            'e',
            '\t',
            'l',
            'a',
            'b',
            'e',
            'l',
            '\n',
            'a',
            (byte) 0xFF,
            '\t',
            '1',
            '\n'
        });
        GlueFormatException e = assertThrows(GlueFormatException.class, () -> GlueTsvReader.read(GlueTask.SST2, bad));
        assertTrue(e.getMessage().contains("UTF-8"), e.getMessage());
        Path empty = dir.resolve("empty.tsv");
        Files.writeString(empty, "");
        e = assertThrows(GlueFormatException.class, () -> GlueTsvReader.read(GlueTask.SST2, empty));
        assertTrue(e.getMessage().contains("header"), e.getMessage());
        assertEquals(List.of(), GlueTsvReader.read(GlueTask.COLA, empty));
    }

    @Test
    void blankLinesAreSkippedAndDoNotCountAsRows(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("dev.tsv");
        Files.writeString(f, "sentence\tlabel\n\ngood .\t1\n\nbad .\t0\n", StandardCharsets.UTF_8);
        List<GlueExample> rows = GlueTsvReader.read(GlueTask.SST2, f);
        assertEquals(
                List.of(
                        new GlueExample("good .", Optional.empty(), 1f, 0),
                        new GlueExample("bad .", Optional.empty(), 0f, 1)),
                rows);
    }
}
