package dev.delora.djl.persist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import dev.delora.djl.fixtures.TestThreads;
import dev.delora.djl.hf.HfSequenceClassifier;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.fixtures.Fixtures;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model built on one thread, then from 4 threads at once: inference (PEFT's logits every time), saving (to each
 * thread's folder and all to one shared folder) and loading more adapters into the shared model.
 */
class ConcurrencyTest {

    private static final int THREADS = 4;
    private static final int ROUNDS = 4;

    @TempDir
    Path tmp;

    @BeforeAll
    static void setUp() throws Exception {
        PeftGoldenTest.setUp();
    }

    @AfterAll
    static void tearDown() {
        PeftGoldenTest.tearDown();
    }

    @Test
    void loadInferAndSaveFromFourThreads() throws Exception {
        HfSequenceClassifier block =
                TestThreads.onNewThread(() -> PeftGoldenTest.base().block());
        AdaptedModel peft = TestThreads.onNewThread(() -> PeftAdapters.load(block, Fixtures.dir("peft/lora")));
        NDArray expected = PeftGoldenTest.golden.get("logits_lora");
        Path shared = tmp.resolve("shared");
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            List<Future<Float>> results = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int id = t;
                results.add(pool.submit(() -> {
                    float worst = 0;
                    for (int round = 0; round < ROUNDS; round++) {
                        worst = Math.max(worst, PeftGoldenTest.maxDiff(expected, PeftGoldenTest.logits(block)));
                        Path own = PeftAdapters.save(peft, "default", tmp.resolve("t" + id + "-" + round));
                        PeftAdapters.save(peft, "default", shared);
                        PeftAdapters.load(peft, own, "t" + id + "r" + round); // inactive: outputs unchanged
                    }
                    return worst;
                }));
            }
            for (Future<Float> f : results) {
                float worst = f.get(120, TimeUnit.SECONDS);
                assertTrue(worst <= 1e-4, "logits off by " + worst);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1 + THREADS * ROUNDS, peft.adapters().size());
        assertTrue(PeftGoldenTest.maxDiff(expected, PeftGoldenTest.logits(block)) <= 1e-4);
        HfSequenceClassifier fresh = PeftGoldenTest.base().block();
        PeftAdapters.load(fresh, shared);
        assertTrue(PeftGoldenTest.maxDiff(expected, PeftGoldenTest.logits(fresh)) <= 1e-4, "the shared folder");
    }
}
