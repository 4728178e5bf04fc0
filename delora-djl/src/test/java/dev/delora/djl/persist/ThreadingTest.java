package dev.delora.djl.persist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import dev.delora.djl.fixtures.TestThreads;
import dev.delora.djl.hf.HfSequenceClassifier;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.fixtures.Fixtures;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Loading works on a thread other than the one that started the engine (DJL's grad mode is per thread). */
class ThreadingTest {

    @BeforeAll
    static void setUp() throws Exception {
        PeftGoldenTest.setUp();
    }

    @AfterAll
    static void tearDown() {
        PeftGoldenTest.tearDown();
    }

    @Test
    void loadsAHeadAdapterOnAnotherThread() throws Exception {
        HfSequenceClassifier block = PeftGoldenTest.base().block();
        NDArray expected = PeftGoldenTest.golden.get("logits_lora");
        AdaptedModel peft = TestThreads.onNewThread(() -> PeftAdapters.load(block, Fixtures.dir("peft/lora")));
        assertEquals(1, peft.adapters().size());
        float d = PeftGoldenTest.maxDiff(expected, PeftGoldenTest.logits(block));
        assertTrue(d <= 1e-4, "logits differ by " + d);
    }
}
