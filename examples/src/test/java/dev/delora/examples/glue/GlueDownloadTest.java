package dev.delora.examples.glue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The download path against a local mirror ({@code file:} addresses): extraction, MRPC assembly, offline errors. */
class GlueDownloadTest {

    @TempDir
    Path tmp;

    private String mirror() throws IOException {
        Path m = Files.createDirectories(tmp.resolve("mirror"));
        Files.createDirectories(m.resolve("glue/data"));
        Files.createDirectories(m.resolve("senteval/senteval_data"));
        return m.toUri().toString();
    }

    @Test
    void extractsTheTaskFilesFromTheZip() throws IOException {
        String base = mirror();
        Path zip = Path.of(java.net.URI.create(base)).resolve("glue/data/RTE.zip");
        String tsv = "index\tsentence1\tsentence2\tlabel\n0\tA man.\tA person.\tentailment\n";
        try (ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(zip))) {
            for (String name : List.of("RTE/", "RTE/train.tsv", "RTE/dev.tsv", "RTE/test.tsv")) {
                out.putNextEntry(new ZipEntry(name));
                if (!name.endsWith("/")) {
                    out.write(tsv.getBytes(StandardCharsets.UTF_8));
                }
                out.closeEntry();
            }
        }
        Path dir = new GlueDownload(tmp.resolve("cache"), base, false).taskDir(GlueTask.RTE);
        assertEquals(
                1, GlueTsvReader.read(GlueTask.RTE, dir.resolve("train.tsv")).size());
        assertTrue(Files.exists(dir.resolve("dev.tsv")));
        assertTrue(!Files.exists(dir.resolve("test.tsv")), "only train and dev are kept");
        // cached: works offline now
        assertEquals(dir, new GlueDownload(tmp.resolve("cache"), "file:/nowhere/", true).taskDir(GlueTask.RTE));
    }

    @Test
    void mrpcIsSplitByTheDevIdsAsGluesScriptDoes() throws IOException {
        String base = mirror();
        Path m = Path.of(java.net.URI.create(base));
        String header = "\ufeffQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n";
        Files.writeString(
                m.resolve("senteval/senteval_data/msr_paraphrase_train.txt"),
                header
                        + "1\t11\t12\tFirst a.\tFirst b.\n0\t21\t22\tSecond a.\tSecond b.\n1\t31\t32\tThird "
                        + "a.\tThird b.\n");
        Files.writeString(m.resolve("glue/data/mrpc_dev_ids.tsv"), "21\t22\n");
        Path dir = new GlueDownload(tmp.resolve("cache"), base, false).taskDir(GlueTask.MRPC);
        List<GlueExample> train = GlueTsvReader.read(GlueTask.MRPC, dir.resolve("train.tsv"));
        List<GlueExample> dev = GlueTsvReader.read(GlueTask.MRPC, dir.resolve("dev.tsv"));
        assertEquals(
                List.of("First a.", "Third a."),
                train.stream().map(GlueExample::textA).toList());
        assertEquals(List.of("Second a."), dev.stream().map(GlueExample::textA).toList());
    }

    @Test
    void offlineErrorNamesTheAddressAndTheExpectedFiles() {
        IOException e = assertThrows(
                IOException.class,
                () -> new GlueDownload(tmp.resolve("cache"), GlueDownload.BASE, true).taskDir(GlueTask.COLA));
        assertTrue(e.getMessage().contains("https://dl.fbaipublicfiles.com/glue/data/CoLA.zip"), e.getMessage());
        assertTrue(
                e.getMessage()
                        .contains(tmp.resolve("cache")
                                .resolve("CoLA")
                                .resolve("train.tsv")
                                .toString()),
                e.getMessage());
    }
}
