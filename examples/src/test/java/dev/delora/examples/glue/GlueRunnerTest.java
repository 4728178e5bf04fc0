package dev.delora.examples.glue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import dev.delora.core.delora.DeloraInit;
import dev.delora.djl.hf.HfModels;
import dev.delora.djl.hf.HfTokenizer;
import dev.delora.fixtures.Fixtures;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The GLUE protocol end to end on a tiny BERT: bookkeeping, summary statistics, and the exported merged model. */
class GlueRunnerTest {

    @TempDir
    Path out;

    @Test
    void protocolLogsTestOnlyOnImprovementAndTheExportReproducesTheBestTestMetric() throws Exception {
        Path model = Fixtures.dir("hf/tiny-bert");
        Hyperparameters hp = new Hyperparameters(Method.DELORA, 3, 16, 1e-2, 1e-2, 0.01, 0.06, Double.NaN, 4, 8, 4,
                DeloraInit.PAPER, 0f, 32, List.of("query", "value"), 0, 0);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        GlueRunner runner = new GlueRunner(GlueTask.SST2, hp, new ModelSource(model.toString()), Device.cpu(), out,
                128, true, new PrintStream(log, true, StandardCharsets.UTF_8));
        GlueData.Splits full = GlueData.embeddedSst2(42);
        GlueData.Splits data = new GlueData.Splits(GlueTask.SST2, full.train().subList(0, 96), full.validation(),
                full.test());
        GlueRunner.RunResult run = runner.runAll(List.of(42), seed -> data).get(0);

        assertTrue(Files.exists(out.resolve("summary.json")) && Files.exists(out.resolve("results.md")));
        assertTrue(Files.exists(out.resolve("seed-42.log")));
        double best = 0;
        for (GlueRunner.EpochLog e : run.epochs()) {
            double v = e.validation().get("accuracy");
            if (v > best) {
                best = v;
                assertNotNull(e.test(), "test is evaluated when validation strictly improves (epoch " + e.epoch() + ")");
            } else {
                assertNull(e.test(), "test is not evaluated without improvement (epoch " + e.epoch() + ")");
            }
        }
        if (run.bestEpoch() == 0) {
            return; // validation never beat 0: nothing reported, nothing exported (the reference's edge case)
        }
        assertEquals(run.epochs().get(run.bestEpoch() - 1).test(), run.testAtBest());

        // the merged export, reloaded as a plain model, gives the best epoch's test accuracy again
        Path exported = out.resolve("seed-42-merged");
        try (Model m = Model.newInstance("reload");
                HfTokenizer tok = HfTokenizer.load(exported, HfTokenizer.Options.of(32))) {
            var loaded = HfModels.sequenceClassifier(exported, m.getNDManager(), null);
            assertTrue(loaded.report().missingKeys().isEmpty() && loaded.report().unexpectedKeys().isEmpty(),
                    loaded.report().messages().toString());
            List<GlueExample> test = data.test();
            int correct = 0;
            for (int i = 0; i < test.size(); i += 128) {
                List<GlueExample> chunk = test.subList(i, Math.min(test.size(), i + 128));
                try (NDManager sub = m.getNDManager().newSubManager()) {
                    NDArray logits = loaded.block().forward(new ParameterStore(sub, false),
                            tok.encode(chunk.stream().map(GlueExample::textA).toList()).toNDList(sub), false).head();
                    long[] pred = logits.argMax(1).toLongArray();
                    for (int j = 0; j < chunk.size(); j++) {
                        correct += pred[j] == chunk.get(j).classId() ? 1 : 0;
                    }
                }
            }
            double accuracy = correct / (double) test.size();
            // merged and unmerged forwards differ only by float rounding: at most one borderline sentence may flip
            assertEquals(run.testAtBest().get("accuracy"), accuracy, 1.0 / test.size() + 1e-12);
        }
    }

    @Test
    void soraRunPrunesAndExports() throws Exception {
        Hyperparameters hp = new Hyperparameters(Method.SORA, 2, 16, 1e-2, 1e-2, 0.1, 0.06, 0.1, 4, 8, 0,
                DeloraInit.PAPER, 0f, 32, List.of("query", "value", "intermediate.dense"), 1f, 0.2f);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        GlueRunner runner = new GlueRunner(GlueTask.SST2, hp, new ModelSource(Fixtures.dir("hf/tiny-bert").toString()),
                Device.cpu(), out, 128, true, new PrintStream(log, true, StandardCharsets.UTF_8));
        GlueData.Splits full = GlueData.embeddedSst2(43);
        GlueRunner.RunResult run = runner.run(new GlueData.Splits(GlueTask.SST2, full.train().subList(0, 64),
                full.validation(), full.test()), 43);
        String text = log.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("SoRA pruning: adapter parameters"), text);
        assertEquals(run.bestEpoch() > 0, Files.exists(out.resolve("seed-43-merged").resolve("model.safetensors")));
    }

    @Test
    void summaryStatisticsAreMeanAndSampleStandardDeviation() {
        GlueRunner.RunResult a = new GlueRunner.RunResult(1, 1, Map.of(), Map.of("accuracy", 0.5), "", List.of(), 0);
        GlueRunner.RunResult b = new GlueRunner.RunResult(2, 1, Map.of(), Map.of("accuracy", 0.7), "", List.of(), 0);
        double[] s = GlueRunner.stats(List.of(a, b)).get("accuracy");
        assertEquals(0.6, s[0], 1e-12);
        assertEquals(Math.sqrt(0.02), s[1], 1e-12); // ((0.1² + 0.1²) / (2 − 1))^½
    }
}
