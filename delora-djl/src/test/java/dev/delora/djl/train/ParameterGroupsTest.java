package dev.delora.djl.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.nn.Parameter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The DeLoRA preset against the grouping glue_delora.py builds for roberta (written out by hand). */
class ParameterGroupsTest {

    private static Parameter p(String name, boolean trainable) {
        return Parameter.builder().setName(name).setType(Parameter.Type.WEIGHT).optRequiresGrad(trainable).build();
    }

    @Test
    void deloraPreset() {
        String q = "roberta.encoder.layer.0.attention.self.query.";
        Map<String, Parameter> params = new LinkedHashMap<>();
        for (String n : List.of(q + "weight", q + "bias", q + "frozen_C", "roberta.embeddings.LayerNorm.weight")) {
            params.put(n, p(n, false));
        }
        for (String n : List.of(q + "delora_A.weight", q + "delora_B.weight", q + "delora_lambda",
                "roberta.encoder.layer.0.output.LayerNorm.weight", "roberta.encoder.layer.0.output.LayerNorm.bias",
                "classifier.dense.weight", "classifier.dense.bias", "classifier.out_proj.weight",
                "classifier.out_proj.bias", "decoder.final_layer_norm.weight", "h.0.ln_1.weight")) {
            params.put(n, p(n, true));
        }
        List<ParameterGroups.Assigned> groups = ParameterGroups.delora(3e-3).build().assign(params);
        assertEquals(3, groups.size());
        assertEquals(Set.of(q + "delora_lambda"), groups.get(0).parameters().keySet());
        assertEquals(3e-3, groups.get(0).group().initialLr(1e-2));
        assertEquals(0.01, groups.get(0).group().weightDecay());
        assertEquals(Set.of("roberta.encoder.layer.0.output.LayerNorm.weight",
                "roberta.encoder.layer.0.output.LayerNorm.bias", "classifier.dense.bias", "classifier.out_proj.bias",
                "decoder.final_layer_norm.weight", "h.0.ln_1.weight"), groups.get(1).parameters().keySet());
        assertEquals(0.0, groups.get(1).group().weightDecay());
        assertEquals(1e-2, groups.get(1).group().initialLr(1e-2));
        assertEquals(Set.of(q + "delora_A.weight", q + "delora_B.weight", "classifier.dense.weight",
                "classifier.out_proj.weight"), groups.get(2).parameters().keySet());
        assertEquals(0.01, groups.get(2).group().weightDecay());
        assertEquals(1e-2, groups.get(2).group().initialLr(1e-2));
    }

    @Test
    void headLrTakesPriority() {
        Map<String, Parameter> params = new LinkedHashMap<>();
        for (String n : List.of("classifier.dense.weight", "classifier.dense.bias", "enc.lora_A.weight")) {
            params.put(n, p(n, true));
        }
        List<ParameterGroups.Assigned> groups =
                ParameterGroups.delora(1e-3).headLr("classifier", 5e-4, 0.01).build().assign(params);
        assertEquals(Set.of("classifier.dense.weight", "classifier.dense.bias"), groups.get(0).parameters().keySet());
        assertEquals(5e-4, groups.get(0).group().initialLr(1.0));
        assertTrue(ParameterGroups.isLayerNorm("a.LayerNorm.weight"));
        assertTrue(!ParameterGroups.isLayerNorm("a.lnx.weight") && !ParameterGroups.isLayerNorm("LayerNorm"));
    }

    @Test
    void rejectsBadGroupsAndEmptySelection() {
        assertThrows(IllegalArgumentException.class, () -> ParameterGroup.withLr("x", n -> true, -1, 0));
        assertThrows(IllegalArgumentException.class, () -> ParameterGroup.atBaseLr("x", n -> true, Double.NaN));
        Map<String, Parameter> frozen = Map.of("a.weight", p("a.weight", false));
        assertThrows(IllegalArgumentException.class, () -> ParameterGroups.standard(0.01).build().assign(frozen));
    }
}
