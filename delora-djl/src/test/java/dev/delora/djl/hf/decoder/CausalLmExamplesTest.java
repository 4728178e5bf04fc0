package dev.delora.djl.hf.decoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.delora.djl.hf.decoder.CausalLmExamples.Example;
import dev.delora.djl.hf.decoder.CausalLmExamples.Truncation;
import java.util.List;
import org.junit.jupiter.api.Test;

class CausalLmExamplesTest {

    private static final long I = CausalLmLoss.IGNORE_INDEX;

    @Test
    void labelsMaskThePromptAndAppendEos() {
        Example e = CausalLmExamples.example(new long[] {5, 6, 7}, new long[] {8, 9}, 2L, 16, Truncation.REFUSE);
        assertArrayEquals(new long[] {5, 6, 7, 8, 9, 2}, e.inputIds());
        assertArrayEquals(new long[] {I, I, I, 8, 9, 2}, e.labels());
        assertEquals(3, e.promptLength());
        assertEquals(3, e.countedTokens());
        Example noEos = CausalLmExamples.example(new long[] {5}, new long[] {8}, null, 16, Truncation.REFUSE);
        assertArrayEquals(new long[] {5, 8}, noEos.inputIds());
        assertArrayEquals(new long[] {I, 8}, noEos.labels());
    }

    @Test
    void truncatesTheStartOfThePromptThenTheEndOfTheResponse() {
        Example e =
                CausalLmExamples.example(new long[] {1, 2, 3, 4}, new long[] {8, 9}, 0L, 5, Truncation.LEFT_OF_PROMPT);
        assertArrayEquals(new long[] {3, 4, 8, 9, 0}, e.inputIds());
        assertArrayEquals(new long[] {I, I, 8, 9, 0}, e.labels());
        Example cut =
                CausalLmExamples.example(new long[] {1, 2, 3}, new long[] {7, 8, 9}, 0L, 3, Truncation.LEFT_OF_PROMPT);
        assertArrayEquals(new long[] {3, 7, 8}, cut.inputIds());
        assertArrayEquals(new long[] {I, 7, 8}, cut.labels());
        IllegalArgumentException refused = assertThrows(
                IllegalArgumentException.class,
                () -> CausalLmExamples.example(new long[] {1, 2, 3}, new long[] {7}, 0L, 4, Truncation.REFUSE));
        assertTrue(refused.getMessage().contains("maximum length 4"), refused.getMessage());
        assertThrows(
                IllegalArgumentException.class,
                () -> CausalLmExamples.example(new long[0], new long[] {7}, 0L, 4, Truncation.REFUSE));
    }

    @Test
    void trainingBatchesPadOnTheRight() {
        Example a = CausalLmExamples.example(new long[] {5, 6}, new long[] {7}, 2L, 16, Truncation.REFUSE);
        Example b = CausalLmExamples.example(new long[] {5}, new long[] {9, 9, 9}, 2L, 16, Truncation.REFUSE);
        CausalLmExamples.TrainingBatch batch = CausalLmExamples.trainingBatch(List.of(a, b), 0);
        assertArrayEquals(new long[][] {{5, 6, 7, 2, 0}, {5, 9, 9, 9, 2}}, batch.inputIds());
        assertArrayEquals(new long[][] {{1, 1, 1, 1, 0}, {1, 1, 1, 1, 1}}, batch.attentionMask());
        assertArrayEquals(new long[][] {{I, I, 7, 2, I}, {I, 9, 9, 9, 2}}, batch.labels());
    }

    @Test
    void promptBatchesPadOnTheLeft() {
        CausalLmExamples.PromptBatch batch =
                CausalLmExamples.promptBatch(List.of(new long[] {4, 5, 6}, new long[] {7}), 0, 8);
        assertArrayEquals(new long[][] {{4, 5, 6}, {0, 0, 7}}, batch.inputIds());
        assertArrayEquals(new long[][] {{1, 1, 1}, {0, 0, 1}}, batch.attentionMask());
        CausalLmExamples.PromptBatch cut =
                CausalLmExamples.promptBatch(List.of(new long[] {4, 5, 6}, new long[] {7}), 3, 2);
        assertArrayEquals(new long[][] {{5, 6}, {3, 7}}, cut.inputIds());
        assertArrayEquals(new long[][] {{1, 1}, {0, 1}}, cut.attentionMask());
    }
}
