package dev.delora.examples.robustness;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTimeout;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.delora.examples.Main;
import dev.delora.examples.glue.GlueTask;
import dev.delora.examples.glue.Presets;
import dev.delora.fixtures.Fixtures;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code robustness} command end to end on a tiny BERT and a tiny SST-2 folder: a 2-method × 2-rate × 1-seed grid
 * (computed once, then copied by the tests that change it), its files, its resume and its refusals.
 */
class RobustnessCommandTest {

    static final List<String> METHODS = List.of("lora", "delora");
    static final List<String> CELLS =
            List.of("lora-x1-seed42", "lora-x16-seed42", "delora-x1-seed42", "delora-x16-seed42");

    @TempDir
    static Path shared;

    static Path data;
    static Path grid;
    static Run first;

    @TempDir
    Path tmp;

    /** What one command printed and returned. */
    record Run(int status, String out, String err) {
        List<String> errLines() {
            return err.lines().toList();
        }
    }

    @BeforeAll
    static void runTheGrid() throws IOException {
        data = sst2Folder(shared.resolve("SST-2"));
        grid = shared.resolve("grid");
        first = robustness(grid);
        assertEquals(0, first.status(), first.err());
    }

    /** A tiny SST-2 folder: 32 training sentences, 24 dev sentences (split 12/12 by the protocol). */
    static Path sst2Folder(Path dir) throws IOException {
        Files.createDirectories(dir);
        String[] good = {"good", "great", "fine", "nice", "fun"};
        String[] bad = {"bad", "awful", "dull", "poor", "sad"};
        for (String file : List.of("train.tsv", "dev.tsv")) {
            StringBuilder sb = new StringBuilder("sentence\tlabel\n");
            int n = file.equals("train.tsv") ? 32 : 24;
            for (int i = 0; i < n; i++) {
                int label = i % 2;
                String word = (label == 1 ? good : bad)[(i * 7 + n) % 5];
                sb.append("a ")
                        .append(word)
                        .append(" movie , ")
                        .append((i % 3 == 0 ? good : bad)[i % 5])
                        .append(" plot .\t")
                        .append(label)
                        .append('\n');
            }
            Files.writeString(dir.resolve(file), sb.toString(), StandardCharsets.UTF_8);
        }
        return dir;
    }

    static List<String> args(Path output, String... more) {
        List<String> args = new ArrayList<>(List.of(
                "robustness",
                "--task",
                "sst2",
                "--data-dir",
                data.toString(),
                "--model",
                Fixtures.dir("hf/tiny-bert").toString(),
                "--methods",
                "lora,delora",
                "--lr-multipliers",
                "1,16",
                "--seeds",
                "42",
                "--epochs",
                "2",
                "--batch-size",
                "16",
                "--max-length",
                "16",
                "--track-distance",
                "1",
                "--device",
                "cpu",
                "--output",
                output.toString()));
        for (int i = 0; i < more.length; i += 2) {
            if (more[i].equals("--debug")) {
                args.add(more[i--]);
                continue;
            }
            int at = args.indexOf(more[i]);
            if (at >= 0) {
                args.set(at + 1, more[i + 1]); // replace the default above
            } else {
                args.add(more[i]);
                args.add(more[i + 1]);
            }
        }
        return args;
    }

    static Run robustness(Path output, String... more) {
        return run(args(output, more).toArray(String[]::new));
    }

    /**
     * Runs the command line, capturing what the command and GlueRunner print to System.out. On the test's own thread
     * (not assertTimeoutPreemptively's): PyTorch's grad mode is thread-local and DJL switches it off only on the
     * thread that started the engine, so training on a second thread fails ("backward through the graph a second
     * time").
     */
    static Run run(String... args) {
        var cli = Main.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err, true));
        cli.setOut(new PrintWriter(new StringWriter(), true));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream saved = System.out;
        System.setOut(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        int status;
        try {
            status = assertTimeout(Duration.ofSeconds(120), () -> cli.execute(args));
        } finally {
            System.setOut(saved);
        }
        return new Run(status, bytes.toString(StandardCharsets.UTF_8), err.toString());
    }

    static JsonObject json(Path file) throws IOException {
        return JsonParser.parseString(Files.readString(file)).getAsJsonObject();
    }

    static Path copyOfTheGrid(Path target) throws IOException {
        try (Stream<Path> files = Files.walk(grid)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Path to = target.resolve(grid.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(p, to, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
        return target;
    }

    /** Each cell's cell.json bytes and modification time. */
    static Map<String, Object[]> cellFiles(Path output) throws IOException {
        Map<String, Object[]> files = new LinkedHashMap<>();
        for (String cell : CELLS) {
            Path f = output.resolve("cells").resolve(cell).resolve(RobustnessGrid.CELL_FILE);
            if (Files.exists(f)) {
                files.put(cell, new Object[] {Files.readAllBytes(f), Files.getLastModifiedTime(f)});
            }
        }
        return files;
    }

    static void assertUnchanged(Map<String, Object[]> before, Map<String, Object[]> after, String cell) {
        assertArrayEquals((byte[]) before.get(cell)[0], (byte[]) after.get(cell)[0], cell);
        assertEquals((FileTime) before.get(cell)[1], (FileTime) after.get(cell)[1], cell);
    }

    @Test
    void aGridWritesACellJsonPerCellTheTablesAndTheCharts() throws IOException {
        for (String method : METHODS) {
            double base = Presets.of(GlueTask.SST2, method).lr();
            for (int x : List.of(1, 16)) {
                Path dir = grid.resolve("cells").resolve(method + "-x" + x + "-seed42");
                JsonObject cell = json(dir.resolve("cell.json"));
                assertEquals(method, cell.get("method").getAsString());
                assertEquals(x, cell.get("multiplier").getAsDouble());
                assertEquals(base * x, cell.get("lr").getAsDouble(), 1e-15, "the preset's base rate × multiplier");
                assertEquals(42, cell.get("seed").getAsInt());
                assertEquals("accuracy", cell.get("metric").getAsString());
                assertTrue(cell.get("diverged").isJsonNull());
                assertTrue(cell.get("seconds").getAsDouble() > 0);
                assertTrue(Files.exists(dir.resolve("summary.json")) && Files.exists(dir.resolve("seed-42.log")));
                assertTrue(Files.exists(dir.resolve("seed-42-distance.jsonl")));
            }
        }
        for (String f : List.of("grid.json", "results.md", "results.json")) {
            assertTrue(Files.isRegularFile(grid.resolve(f)), f);
        }
        assertTrue(first.out().contains("[1/4] lora lr 0.0005 (x1) seed 42"), first.out());
        assertTrue(first.out().contains("[4/4] delora lr 0.016 (x16) seed 42"), first.out());
        assertTrue(first.out().contains("4 cells computed, 0 skipped"), first.out());

        BufferedImage fig2 = png(grid.resolve("fig2.png"));
        assertEquals(2 * RobustnessCharts.WIDTH, fig2.getWidth(), "two panels side by side");
        assertEquals(RobustnessCharts.HEIGHT, fig2.getHeight());
        BufferedImage fig3 = png(grid.resolve("fig3.png"));
        for (BufferedImage image : List.of(fig2, fig3)) {
            // a line per method in its colour: lora first (blue), delora second (orange)
            assertTrue(pixels(image, 0x1f77b4) > 100, "lora's line");
            assertTrue(pixels(image, 0xff7f0e) > 100, "delora's line");
        }
        for (String svg : List.of("fig2.svg", "fig3.svg")) {
            String text = Files.readString(grid.resolve(svg));
            assertTrue(text.startsWith("<?xml") && text.contains("<svg") && text.contains("</svg>"), svg);
        }
    }

    static BufferedImage png(Path file) throws IOException {
        assertTrue(Files.size(file) > 10_000, file + " is " + Files.size(file) + " bytes");
        BufferedImage image = ImageIO.read(file.toFile());
        assertNotNull(image, file + " decodes");
        return image;
    }

    static int pixels(BufferedImage image, int rgb) {
        int n = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                n += (image.getRGB(x, y) & 0xffffff) == rgb ? 1 : 0;
            }
        }
        return n;
    }

    @Test
    void theTableShowsWhatGlueRunnerComputed() throws IOException {
        String md = Files.readString(grid.resolve("results.md"));
        JsonObject results = json(grid.resolve("results.json"));
        int row = 0;
        for (String method : METHODS) {
            for (int x : List.of(1, 16)) {
                Path dir = grid.resolve("cells").resolve(method + "-x" + x + "-seed42");
                JsonObject run = json(dir.resolve("summary.json"))
                        .getAsJsonArray("runs")
                        .get(0)
                        .getAsJsonObject();
                double accuracy =
                        run.getAsJsonObject("testAtBest").get("accuracy").getAsDouble();
                List<String> lines = Files.readAllLines(dir.resolve("seed-42-distance.jsonl"));
                double distance = JsonParser.parseString(lines.get(lines.size() - 1))
                        .getAsJsonObject()
                        .get("total")
                        .getAsDouble();

                JsonObject cell = json(dir.resolve("cell.json"));
                assertEquals(accuracy, cell.get("metricAtBest").getAsDouble());
                assertEquals(
                        run.get("bestEpoch").getAsInt(), cell.get("bestEpoch").getAsInt());
                assertEquals(distance, cell.get("finalDistance").getAsDouble());

                JsonObject r = results.getAsJsonArray("rows").get(row++).getAsJsonObject();
                assertEquals(method, r.get("method").getAsString());
                assertEquals(accuracy, r.getAsJsonObject("perSeed").get("42").getAsDouble());
                assertEquals(accuracy, r.get("metricMean").getAsDouble());
                assertEquals(0, r.get("metricStd").getAsDouble(), "one seed");
                assertEquals(distance, r.get("finalDistanceMean").getAsDouble());

                String a = String.format(Locale.ROOT, "%.2f", 100 * accuracy);
                String line = "| " + method + " | " + x + " | "
                        + GridCell.lrText(cell.get("lr").getAsDouble()) + " | " + a + " | " + a + " ± 0.00 | "
                        + String.format(Locale.ROOT, "%.4f", distance) + " |";
                assertTrue(md.contains(line + "\n"), line + "\n" + md);
            }
        }
        assertTrue(md.contains("Cells done: 4 of 4."), md);
    }

    @Test
    void aRerunRecomputesNothing() throws IOException {
        Path out = copyOfTheGrid(tmp.resolve("rerun"));
        Map<String, Object[]> before = cellFiles(out);
        Run r = robustness(out);
        assertEquals(0, r.status(), r.err());
        for (String cell : CELLS) {
            assertTrue(r.out().contains("cell " + cell + " done, skipped"), r.out());
            assertUnchanged(before, cellFiles(out), cell);
        }
        assertTrue(r.out().contains("0 cells computed, 4 skipped"), r.out());
        assertFalse(r.out().contains("sst2 | "), "no GlueRunner run started:\n" + r.out());
        assertTrue(Files.exists(out.resolve("fig2.png")) && Files.exists(out.resolve("results.md")));
    }

    @Test
    void aDeletedOrBrokenCellJsonIsRecomputedAlone() throws IOException {
        Path out = copyOfTheGrid(tmp.resolve("partial"));
        Map<String, Object[]> before = cellFiles(out);
        Path deleted = out.resolve("cells/delora-x16-seed42/cell.json");
        Path broken = out.resolve("cells/lora-x1-seed42/cell.json");
        Files.delete(deleted);
        Files.writeString(broken, "{\"method\": \"lora\", \"multiplier\": 1.0, \"lr\": 0.0005, \"seed\": 43}");
        Files.writeString(out.resolve("cells/delora-x16-seed42/seed-42.log"), "left by an interrupted run\n");

        Run r = robustness(out);
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("2 cells computed, 2 skipped"), r.out());
        assertTrue(r.out().contains("cell lora-x16-seed42 done, skipped"), r.out());
        assertTrue(r.out().contains("cell delora-x1-seed42 done, skipped"), r.out());
        Map<String, Object[]> after = cellFiles(out);
        assertUnchanged(before, after, "lora-x16-seed42");
        assertUnchanged(before, after, "delora-x1-seed42");
        // recomputed from scratch, with the same result (same seed, same data)
        for (String cell : List.of("delora-x16-seed42", "lora-x1-seed42")) {
            JsonObject was = JsonParser.parseString(new String((byte[]) before.get(cell)[0], StandardCharsets.UTF_8))
                    .getAsJsonObject();
            JsonObject now = json(out.resolve("cells").resolve(cell).resolve("cell.json"));
            assertEquals(was.get("metricAtBest"), now.get("metricAtBest"), cell);
            assertEquals(
                    was.get("finalDistance").getAsDouble(),
                    now.get("finalDistance").getAsDouble(),
                    1e-6,
                    cell);
        }
        assertFalse(Files.readString(out.resolve("cells/delora-x16-seed42/seed-42.log"))
                .contains("interrupted"));
    }

    @Test
    void otherSettingsAreRefusedNamingTheField() throws IOException {
        Path out = copyOfTheGrid(tmp.resolve("settings"));
        Map<String, Object[]> before = cellFiles(out);
        assertRefused(robustness(out, "--epochs", "3"), "methods.lora.epochs was 2, now 3");
        assertRefused(robustness(out, "--max-train-samples", "8"), "maxTrainSamples was null, now 8");
        assertRefused(robustness(out, "--base-lr", "delora=0.002"), "methods.delora.lr was 0.001, now 0.002");
        assertRefused(robustness(out, "--track-distance", "5"), "trackDistance was 1, now 5");
        for (String cell : CELLS) {
            assertUnchanged(before, cellFiles(out), cell);
        }
    }

    private static void assertRefused(Run r, String field) {
        assertEquals(2, r.status(), r.err());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith("error: "), r.err());
        assertTrue(r.err().contains("grid.json holds a grid with other settings: " + field), r.err());
        assertFalse(r.out().contains("sst2 | "), "no run started");
    }

    @Test
    void aNewSeedRunsOnlyItsCellsAndTheTableAveragesTheSeeds() throws IOException {
        Path out = copyOfTheGrid(tmp.resolve("more-seeds"));
        Run r = robustness(out, "--seeds", "42,43", "--methods", "lora", "--lr-multipliers", "16");
        assertEquals(0, r.status(), r.err());
        assertTrue(r.out().contains("cell lora-x16-seed42 done, skipped"), r.out());
        assertTrue(r.out().contains("1 cells computed, 1 skipped"), r.out());
        double[] v = new double[2];
        for (int i = 0; i < 2; i++) {
            v[i] = json(out.resolve("cells/lora-x16-seed4" + (2 + i) + "/summary.json"))
                    .getAsJsonArray("runs")
                    .get(0)
                    .getAsJsonObject()
                    .getAsJsonObject("testAtBest")
                    .get("accuracy")
                    .getAsDouble();
        }
        double mean = (v[0] + v[1]) / 2;
        double std = Math.abs(v[0] - v[1]) / Math.sqrt(2); // sample std of two values
        JsonObject row =
                json(out.resolve("results.json")).getAsJsonArray("rows").get(0).getAsJsonObject();
        assertEquals(mean, row.get("metricMean").getAsDouble(), 1e-12);
        assertEquals(std, row.get("metricStd").getAsDouble(), 1e-12);
        String md = Files.readString(out.resolve("results.md"));
        assertTrue(
                md.contains(String.format(
                        Locale.ROOT, " | %.2f | %.2f | %.2f ± %.2f | ", 100 * v[0], 100 * v[1], 100 * mean, 100 * std)),
                md);
    }

    @Test
    void aDivergedCellIsAResultAndIsNotRerun() throws IOException {
        Path out = tmp.resolve("diverged");
        String[] more = {"--methods", "lora", "--lr-multipliers", "1e9", "--epochs", "3"};
        Run r = robustness(out, more);
        assertEquals(0, r.status(), r.err());
        JsonObject cell = json(out.resolve("cells/lora-x1000000000-seed42/cell.json"));
        assertTrue(cell.get("diverged").getAsString().contains("training diverged"), cell.toString());
        assertTrue(cell.get("metricAtBest").isJsonNull());
        assertTrue(Files.readString(out.resolve("results.md")).contains("| diverged |"));
        Run again = robustness(out, more);
        assertTrue(again.out().contains("cell lora-x1000000000-seed42 done, skipped"), again.out());
        assertNull(RobustnessGrid.read(
                out.resolve("cells/lora-x1000000000-seed42/cell.json"),
                new GridCell("lora", 1e9, 5e5, 43),
                "accuracy"));
    }
}
