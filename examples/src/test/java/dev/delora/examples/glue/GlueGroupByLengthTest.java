package dev.delora.examples.glue;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.delora.djl.train.LengthGroupedBatches;
import dev.delora.examples.Main;
import dev.delora.fixtures.Fixtures;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code --group-by-length} in the GLUE runner: every training example once per epoch in length-grouped batches, and
 * without it the batches (and the random stream) of plain shuffled batching.
 */
class GlueGroupByLengthTest {

    private static final int SEED = 42;
    private static final int TRAIN = 45; // not a multiple of the batch size
    private static final int BATCH = 4;
    private static final int EPOCHS = 2;

    @TempDir
    Path out;

    private static Hyperparameters hp() {
        return new Hyperparameters(
                "lora",
                EPOCHS,
                BATCH,
                1e-3,
                0.01,
                0.06,
                Double.NaN,
                32,
                List.of("query", "value"),
                Map.of("r", 2, "lora_alpha", 4, "lora_dropout", 0),
                Map.of());
    }

    /** One seed on the tiny BERT; returns each epoch's batches and fills {@code lengths} with the rows' lengths. */
    private List<List<int[]>> train(boolean groupByLength, List<int[]> lengths) throws IOException {
        List<List<int[]>> epochs = new ArrayList<>();
        GlueRunner runner = new GlueRunner(
                GlueTask.SST2,
                hp(),
                new ModelSource(Fixtures.dir("hf/tiny-bert").toString()),
                Device.cpu(),
                out,
                128,
                false,
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        if (groupByLength) {
            runner.groupByLength(true);
        }
        runner.epochBatches((epoch, rowLengths, batches) -> {
            assertEquals(epochs.size(), epoch);
            lengths.add(rowLengths.clone());
            epochs.add(batches.stream().map(int[]::clone).toList());
        });
        GlueData.Splits full = GlueData.embeddedSst2(SEED);
        GlueData.Splits data = new GlueData.Splits(
                GlueTask.SST2,
                full.train().subList(0, TRAIN),
                full.validation().subList(0, 16),
                full.test().subList(0, 16));
        runner.runAll(List.of(SEED), seed -> data);
        assertEquals(EPOCHS, epochs.size());
        return epochs;
    }

    private static void assertEveryRowOnce(List<int[]> batches, String what) {
        int[] rows = batches.stream().flatMapToInt(Arrays::stream).sorted().toArray();
        assertArrayEquals(IntStream.range(0, TRAIN).toArray(), rows, what);
        assertEquals((TRAIN + BATCH - 1) / BATCH, batches.size(), what);
    }

    private JsonObject summaryHyperparameters() throws IOException {
        return JsonParser.parseString(Files.readString(out.resolve("summary.json")))
                .getAsJsonObject()
                .getAsJsonObject("hyperparameters");
    }

    @Test
    void groupedEpochsTrainOnEveryExampleOnceInLengthGroupedBatches() throws IOException {
        List<int[]> lengths = new ArrayList<>();
        List<List<int[]>> epochs = train(true, lengths);
        int[] len = lengths.get(0);
        assertTrue(Arrays.stream(len).distinct().count() > 5, "the sentences differ in length");
        int longest = Arrays.stream(len).max().orElseThrow();
        Random shuffle = new Random(SEED); // the runner's per-seed generator, drawn from epoch after epoch
        for (int e = 0; e < EPOCHS; e++) {
            List<int[]> batches = epochs.get(e);
            assertEveryRowOnce(batches, "epoch " + e);
            assertEquals(longest, len[batches.get(0)[0]], "the longest row comes first, epoch " + e);
            List<int[]> expected = LengthGroupedBatches.of(len, BATCH, shuffle);
            for (int b = 0; b < batches.size(); b++) {
                assertArrayEquals(expected.get(b), batches.get(b), "epoch " + e + ", batch " + b);
            }
        }
        assertFalse(Arrays.equals(epochs.get(0).get(1), epochs.get(1).get(1)), "each epoch draws a new permutation");
        assertEquals(true, summaryHyperparameters().get("groupByLength").getAsBoolean());
    }

    @Test
    void withoutTheOptionTheBatchesAreThePlainShuffleAsBefore() throws IOException {
        List<List<int[]>> epochs = train(false, new ArrayList<>());
        Random shuffle = new Random(SEED);
        for (int e = 0; e < EPOCHS; e++) {
            // what EncodedExamples.batches did before the option existed: Collections.shuffle, then chunks
            List<Integer> order =
                    new ArrayList<>(IntStream.range(0, TRAIN).boxed().toList());
            Collections.shuffle(order, shuffle);
            List<int[]> batches = epochs.get(e);
            assertEveryRowOnce(batches, "epoch " + e);
            for (int b = 0; b < batches.size(); b++) {
                int[] expected = order.subList(b * BATCH, Math.min(TRAIN, (b + 1) * BATCH)).stream()
                        .mapToInt(Integer::intValue)
                        .toArray();
                assertArrayEquals(expected, batches.get(b), "epoch " + e + ", batch " + b);
            }
        }
        assertEquals(false, summaryHyperparameters().get("groupByLength").getAsBoolean());
    }

    @Test
    void summaryKeepsTheHyperparameterKeysAndAddsGroupByLengthLast() {
        Hyperparameters hp = hp(); // maxGradNorm NaN: written as NaN, as before
        Gson gson = new GsonBuilder().serializeSpecialFloatingPointValues().create();
        String before = gson.toJson(hp); // what summary.json held before the option
        JsonObject now = GlueRunFiles.hyperparameters(hp, true);
        List<String> keys =
                new ArrayList<>(JsonParser.parseString(before).getAsJsonObject().keySet());
        keys.add("groupByLength");
        assertEquals(keys, new ArrayList<>(now.keySet()));
        assertTrue(now.get("groupByLength").getAsBoolean());
        now.remove("groupByLength");
        assertEquals(before, gson.toJson(now));
    }

    @Test
    void onlyTheGlueCommandTakesTheOption() throws IOException {
        Path data = Files.createDirectories(out.resolve("RTE"));
        String header = "index\tsentence1\tsentence2\tlabel\n";
        Files.writeString(data.resolve("train.tsv"), header + "0\tA .\tB .\tentailment\n", StandardCharsets.UTF_8);
        Files.writeString(data.resolve("dev.tsv"), header + "0\tC .\tD .\tnot_entailment\n", StandardCharsets.UTF_8);
        List<String> common =
                List.of("--task", "rte", "--data-dir", data.toString(), "--model", "/nonexistent", "--group-by-length");

        List<String> robustness = new ArrayList<>(
                List.of("robustness", "--output", out.resolve("r").toString()));
        robustness.addAll(common);
        String[] err = new String[1];
        assertEquals(2, execute(robustness, err));
        assertEquals("error: --group-by-length exists only for glue, not robustness", err[0].strip());

        List<String> glue =
                new ArrayList<>(List.of("glue", "--output", out.resolve("g").toString()));
        glue.addAll(common);
        assertEquals(2, execute(glue, err));
        assertTrue(err[0].startsWith("error: --model /nonexistent: no such folder"), err[0]); // past the option
    }

    private static int execute(List<String> args, String[] err) {
        CommandLine cli = Main.commandLine();
        StringWriter text = new StringWriter();
        cli.setOut(new PrintWriter(new StringWriter(), true));
        cli.setErr(new PrintWriter(text, true));
        int status = cli.execute(args.toArray(String[]::new));
        err[0] = text.toString();
        return status;
    }
}
