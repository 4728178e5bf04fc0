package dev.delora.djl.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.delora.core.LinearAdapter;
import dev.delora.core.delora.DeloraConfig;
import dev.delora.core.delora.DeloraMethod;
import dev.delora.core.method.AdapterMethods;
import dev.delora.core.method.ParameterGroup;
import dev.delora.core.method.TrainingContext;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The DeLoRA preset against the grouping glue_delora.py builds for roberta (written out by hand). */
class ParameterGroupsTest {

    private static Parameter p(String name, boolean trainable) {
        return Parameter.builder()
                .setName(name)
                .setType(Parameter.Type.WEIGHT)
                .optRequiresGrad(trainable)
                .build();
    }

    /** DeLoRA's grouping as glue_delora.py builds it: λ at its own rate, no decay on biases and norms. */
    private static ParameterGroups delora(double lambdaLr) {
        return delora(lambdaLr, null);
    }

    private static ParameterGroups delora(double lambdaLr, String head) {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            String q = "roberta.encoder.layer.0.attention.self.query";
            DeloraConfig config =
                    DeloraConfig.builder().r(2).targetModules("query").build();
            LinearAdapter adapter = config.create(q, manager.randomNormal(new Shape(4, 3)), manager);
            TrainingContext context = new TrainingContext(
                    "default", Map.of(q, adapter), 1e-2, 0.01, Map.of(DeloraMethod.LAMBDA_GROUP, lambdaLr));
            ParameterGroups.Builder b = ParameterGroups.standard(ParameterGroups.DEFAULT_WEIGHT_DECAY);
            AdapterMethods.of(config)
                    .training(config, context)
                    .parameterGroups()
                    .forEach(b::addFirst);
            if (head != null) {
                b.headLr(head, 5e-4, 0.01);
            }
            return b.build();
        }
    }

    @Test
    void deloraGroupsFromTheMethod() {
        String q = "roberta.encoder.layer.0.attention.self.query.";
        Map<String, Parameter> params = new LinkedHashMap<>();
        for (String n : List.of(q + "weight", q + "bias", q + "frozen_C", "roberta.embeddings.LayerNorm.weight")) {
            params.put(n, p(n, false));
        }
        for (String n : List.of(
                q + "delora_A.default",
                q + "delora_B.default",
                q + "delora_lambda.default",
                "roberta.encoder.layer.0.output.LayerNorm.weight",
                "roberta.encoder.layer.0.output.LayerNorm.bias",
                "classifier.dense.weight",
                "classifier.dense.bias",
                "classifier.out_proj.weight",
                "classifier.out_proj.bias",
                "decoder.final_layer_norm.weight",
                "h.0.ln_1.weight")) {
            params.put(n, p(n, true));
        }
        List<ParameterGroups.Assigned> groups = delora(3e-3).assign(params);
        assertEquals(3, groups.size());
        assertEquals(
                Set.of(q + "delora_lambda.default"), groups.get(0).parameters().keySet());
        assertEquals(3e-3, groups.get(0).group().initialLr(1e-2));
        assertEquals(0.01, groups.get(0).group().weightDecay());
        assertEquals(
                Set.of(
                        "roberta.encoder.layer.0.output.LayerNorm.weight",
                        "roberta.encoder.layer.0.output.LayerNorm.bias",
                        "classifier.dense.bias",
                        "classifier.out_proj.bias",
                        "decoder.final_layer_norm.weight",
                        "h.0.ln_1.weight"),
                groups.get(1).parameters().keySet());
        assertEquals(0.0, groups.get(1).group().weightDecay());
        assertEquals(1e-2, groups.get(1).group().initialLr(1e-2));
        assertEquals(
                Set.of(
                        q + "delora_A.default",
                        q + "delora_B.default",
                        "classifier.dense.weight",
                        "classifier.out_proj.weight"),
                groups.get(2).parameters().keySet());
        assertEquals(0.01, groups.get(2).group().weightDecay());
        assertEquals(1e-2, groups.get(2).group().initialLr(1e-2));
    }

    @Test
    void headLrTakesPriority() {
        Map<String, Parameter> params = new LinkedHashMap<>();
        for (String n : List.of("classifier.dense.weight", "classifier.dense.bias", "enc.lora_A.weight")) {
            params.put(n, p(n, true));
        }
        List<ParameterGroups.Assigned> groups = delora(1e-3, "classifier").assign(params);
        assertEquals(
                Set.of("classifier.dense.weight", "classifier.dense.bias"),
                groups.get(0).parameters().keySet());
        assertEquals(5e-4, groups.get(0).group().initialLr(1.0));
        assertTrue(ParameterGroups.isLayerNorm("a.LayerNorm.weight"));
        assertTrue(!ParameterGroups.isLayerNorm("a.lnx.weight") && !ParameterGroups.isLayerNorm("LayerNorm"));
    }

    @Test
    void rejectsBadGroupsAndEmptySelection() {
        assertThrows(IllegalArgumentException.class, () -> ParameterGroup.withLr("x", n -> true, -1, 0));
        assertThrows(IllegalArgumentException.class, () -> ParameterGroup.atBaseLr("x", n -> true, Double.NaN));
        Map<String, Parameter> frozen = Map.of("a.weight", p("a.weight", false));
        assertThrows(
                IllegalArgumentException.class,
                () -> ParameterGroups.standard(0.01).build().assign(frozen));
    }
}
