package dev.delora.core.target;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Hand-checked cases of PEFT's matching rules (the PEFT-generated cases live in TargetSelectorParityTest). */
class TargetSelectorTest {

    private static final String Q0 = "roberta.encoder.layer.0.attention.self.query";
    private static final String V1 = "roberta.encoder.layer.1.attention.self.value";

    @Test
    void listMatchesExactNameOrDotAlignedSuffixOnly() {
        TargetSelector s = new TargetSelector(TargetSpec.of("query", "self.value"));
        assertTrue(s.isTarget(Q0));
        assertTrue(s.isTarget(V1));
        assertTrue(s.isTarget("query"));
        assertFalse(s.isTarget("roberta.encoder.layer.0.attention.self.xquery"), "substring is not a suffix");
        assertFalse(s.isTarget("roberta.encoder.layer.0.attention.self.query.extra"));
    }

    @Test
    void stringIsAFullMatchRegex() {
        TargetSelector s = new TargetSelector(
                new TargetSpec(ModuleMatcher.regex(".*layer\\.1\\..*(query|value)"), null, null, null, null));
        assertFalse(s.isTarget(Q0));
        assertTrue(s.isTarget(V1));
        assertFalse(
                new TargetSelector(new TargetSpec(ModuleMatcher.regex("query"), null, null, null, null)).isTarget(Q0),
                "a regex must match the whole path");
    }

    @Test
    void layersToTransformFiltersByLayerIndex() {
        TargetSpec spec =
                new TargetSpec(ModuleMatcher.names("query", "value"), null, List.of(1), List.of("layer"), null);
        TargetSelector s = new TargetSelector(spec);
        assertFalse(s.isTarget(Q0));
        assertTrue(s.isTarget(V1));
        // no index after "layer." → not a target
        assertFalse(s.isTarget("pooler.query"));
    }

    @Test
    void excludeAndModulesToSaveWin() {
        TargetSelector s = new TargetSelector(new TargetSpec(
                ModuleMatcher.names("dense"),
                ModuleMatcher.names("attention.output.dense"),
                null,
                null,
                List.of("classifier")));
        assertTrue(s.isTarget("roberta.encoder.layer.0.output.dense"));
        assertFalse(s.isTarget("roberta.encoder.layer.0.attention.output.dense"));
        assertFalse(s.isTarget("classifier.dense"));
        assertTrue(s.isModuleToSave("classifier.out_proj"));
        assertFalse(s.isModuleToSave("myclassifier.dense"));
    }

    @Test
    void firstMatchingPatternKeyWins() {
        Map<String, Integer> ranks = new LinkedHashMap<>();
        ranks.put("layer.1.attention.self.value", 2);
        ranks.put("value", 16);
        assertEquals(2, TargetSelector.resolve(ranks, V1, 8));
        assertEquals(16, TargetSelector.resolve(ranks, "roberta.encoder.layer.0.attention.self.value", 8));
        assertEquals(8, TargetSelector.resolve(ranks, Q0, 8));
        assertEquals(8, TargetSelector.resolve(ranks, "x.myvalue", 8), "keys align on dots");
    }

    @Test
    void invalidSpecsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> ModuleMatcher.regex("(a"));
        assertThrows(IllegalArgumentException.class, () -> ModuleMatcher.names("a", ""));
        assertThrows(
                IllegalArgumentException.class,
                () -> new TargetSpec(ModuleMatcher.names("q"), null, List.of(), List.of("layer"), null));
    }
}
