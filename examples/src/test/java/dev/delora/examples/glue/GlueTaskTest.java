package dev.delora.examples.glue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Checks the task table against the Hugging Face {@code glue} builder's ClassLabel names and the {@code evaluate}
 * library's {@code glue} metric keys (datasets' glue.py and evaluate's metrics/glue/glue.py).
 */
class GlueTaskTest {

    @Test
    void labelIdsFollowHuggingFaceClassLabels() {
        assertEquals(0f, GlueTask.MNLI.parseLabel("entailment"));
        assertEquals(1f, GlueTask.MNLI.parseLabel("neutral"));
        assertEquals(2f, GlueTask.MNLI.parseLabel("contradiction"));
        assertEquals(0f, GlueTask.QNLI.parseLabel("entailment"));
        assertEquals(1f, GlueTask.QNLI.parseLabel("not_entailment"));
        assertEquals(0f, GlueTask.RTE.parseLabel("entailment"));
        assertEquals(1f, GlueTask.RTE.parseLabel("not_entailment"));
        for (GlueTask t : List.of(GlueTask.COLA, GlueTask.SST2, GlueTask.MRPC, GlueTask.QQP)) {
            assertEquals(0f, t.parseLabel("0"));
            assertEquals(1f, t.parseLabel("1"));
        }
        assertEquals(List.of("unacceptable", "acceptable"), GlueTask.COLA.labelNames());
        assertEquals(List.of("not_equivalent", "equivalent"), GlueTask.MRPC.labelNames());
        assertEquals(3.8f, GlueTask.STSB.parseLabel("3.800"));
        assertEquals(5f, GlueTask.STSB.parseLabel("5"));
    }

    @Test
    void badLabelsNameTheAllowedOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GlueTask.RTE.parseLabel("0"));
        assertTrue(e.getMessage().contains("entailment, not_entailment"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> GlueTask.SST2.parseLabel("2"));
        assertTrue(e.getMessage().contains("allowed labels: 0, 1"), e.getMessage());
        for (String s : List.of("NaN", "Infinity", "1f", "0x1p2", "", "four")) {
            assertThrows(IllegalArgumentException.class, () -> GlueTask.STSB.parseLabel(s), s);
        }
    }

    @Test
    void outputsAndMetrics() {
        assertEquals(3, GlueTask.MNLI.numLabels());
        assertEquals(1, GlueTask.STSB.numLabels());
        assertTrue(GlueTask.STSB.isRegression());
        for (GlueTask t :
                List.of(GlueTask.COLA, GlueTask.SST2, GlueTask.MRPC, GlueTask.QQP, GlueTask.QNLI, GlueTask.RTE)) {
            assertEquals(2, t.numLabels(), t.id());
            assertFalse(t.isRegression());
        }
        assertEquals(List.of("matthews_correlation"), GlueTask.COLA.metricNames());
        assertEquals(List.of("pearson", "spearmanr"), GlueTask.STSB.metricNames());
        assertEquals(List.of("accuracy", "f1"), GlueTask.MRPC.metricNames());
        assertEquals(List.of("accuracy", "f1"), GlueTask.QQP.metricNames());
        for (GlueTask t : List.of(GlueTask.SST2, GlueTask.MNLI, GlueTask.QNLI, GlueTask.RTE)) {
            assertEquals(List.of("accuracy"), t.metricNames(), t.id());
        }
        assertEquals("matthews_correlation", GlueTask.COLA.selectionMetric());
        assertEquals("pearson", GlueTask.STSB.selectionMetric());
        assertEquals("accuracy", GlueTask.MRPC.selectionMetric());
    }

    @Test
    void filesAndLayouts() {
        assertEquals("dev_matched.tsv", GlueTask.MNLI.devFileName());
        assertEquals("dev.tsv", GlueTask.RTE.devFileName());
        assertEquals("train.tsv", GlueTask.MNLI.trainFileName());
        assertFalse(GlueTask.COLA.hasHeader());
        assertTrue(GlueTask.MRPC.hasHeader());
        assertFalse(GlueTask.SST2.isPairTask());
        assertFalse(GlueTask.COLA.isPairTask());
        assertTrue(GlueTask.QQP.isPairTask());
        assertEquals("STS-B", GlueTask.STSB.directoryName());
    }

    @Test
    void lookupByAnyName() {
        assertEquals(GlueTask.SST2, GlueTask.of("sst2"));
        assertEquals(GlueTask.SST2, GlueTask.of("SST-2"));
        assertEquals(GlueTask.STSB, GlueTask.of("STSB"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GlueTask.of("wnli"));
        assertTrue(e.getMessage().contains("cola, sst2, mrpc, qqp, stsb, mnli, qnli, rte"), e.getMessage());
    }
}
