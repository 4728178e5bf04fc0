package dev.delora.djl.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.delora.djl.io.Safetensors;
import dev.delora.djl.tree.BlockTree;
import dev.delora.fixtures.Fixtures;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Numerical parity with transformers (golden outputs from parity/hf_models.py, eager attention, eval mode). */
class HfParityTest {

    private static final double TOL = 1e-4;
    private static NDManager manager;
    private static Map<String, NDArray> golden;

    @BeforeAll
    static void setUp() throws Exception {
        manager = NDManager.newBaseManager();
        golden = Safetensors.load(manager, Fixtures.path("hf/golden.safetensors"));
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    static NDList bertInputs() {
        return new NDList(
                golden.get("bert.input_ids"), golden.get("bert.attention_mask"), golden.get("bert.token_type_ids"));
    }

    static NDList robertaInputs() {
        return new NDList(golden.get("roberta.input_ids"), golden.get("roberta.attention_mask"));
    }

    static NDList run(Block b, NDList in, boolean training) {
        return b.forward(new ParameterStore(manager, false), in, training);
    }

    static void assertClose(NDArray expected, NDArray actual, String what) {
        assertEquals(expected.getShape(), actual.getShape(), what + " shape");
        float diff = expected.sub(actual).abs().max().getFloat();
        assertTrue(diff <= TOL, what + ": max |diff| " + diff + " > " + TOL);
    }

    @Test
    void bertHiddenStatesPoolerAndLogitsMatchTransformers() throws Exception {
        var m = HfModels.sequenceClassifier(Fixtures.dir("hf/tiny-bert"), manager, null);
        assertTrue(m.report().missingKeys().isEmpty(), m.report().toString());
        assertTrue(m.report().unexpectedKeys().isEmpty(), m.report().toString());
        Block base = BlockTree.modules(m.block()).get("bert");
        NDList out = run(base, bertInputs(), false);
        assertClose(golden.get("bert.last_hidden_state"), out.get(0), "bert last_hidden_state");
        assertClose(golden.get("bert.pooler_output"), out.get(1), "bert pooler_output");
        assertClose(
                golden.get("bert.logits"), run(m.block(), bertInputs(), false).head(), "bert logits");
        assertEquals(ProblemType.SINGLE_LABEL_CLASSIFICATION, m.block().problemType());
    }

    @Test
    void robertaHiddenStatesAndLogitsMatchTransformers() throws Exception {
        var m = HfModels.sequenceClassifier(Fixtures.dir("hf/tiny-roberta"), manager, null);
        assertTrue(
                m.report().missingKeys().isEmpty()
                        && m.report().unexpectedKeys().isEmpty(),
                m.report().toString());
        NDList out = run(BlockTree.modules(m.block()).get("roberta"), robertaInputs(), false);
        assertEquals(1, out.size(), "RobertaForSequenceClassification's base has no pooler");
        assertClose(golden.get("roberta.last_hidden_state"), out.get(0), "roberta last_hidden_state");
        assertClose(
                golden.get("roberta.logits"),
                run(m.block(), robertaInputs(), false).head(),
                "roberta logits");
    }

    @Test
    void robertaRegressionHasOneOutputAndMatches() throws Exception {
        var m = HfModels.sequenceClassifier(Fixtures.dir("hf/tiny-roberta-regression"), manager, null);
        assertEquals(ProblemType.REGRESSION, m.block().problemType());
        assertEquals(0.2f, m.config().headDropout(), 1e-7);
        NDArray logits = run(m.block(), robertaInputs(), false).head();
        assertArrayEquals(new long[] {3, 1}, logits.getShape().getShape());
        assertClose(golden.get("roberta_reg.logits"), logits, "regression logits");
    }

    @Test
    void bf16AndShardedCheckpointsLoadToTheReferenceLogits() throws Exception {
        var bf = HfModels.sequenceClassifier(Fixtures.dir("hf/tiny-bert-bf16"), manager, null);
        assertClose(
                golden.get("bert_bf16.logits"),
                run(bf.block(), bertInputs(), false).head(),
                "bf16 logits");
        // bf16 rounding must be visible, otherwise this test could not tell a bf16 load from an f32 one
        float shift = golden.get("bert_bf16.logits")
                .sub(golden.get("bert.logits"))
                .abs()
                .max()
                .getFloat();
        assertTrue(shift > 1e-3, "bf16 rounding changed logits by only " + shift);
        var sh = HfModels.sequenceClassifier(Fixtures.dir("hf/tiny-bert-sharded"), manager, null);
        assertTrue(sh.report().missingKeys().isEmpty(), sh.report().toString());
        assertClose(
                golden.get("bert.logits"), run(sh.block(), bertInputs(), false).head(), "sharded logits");
    }

    @Test
    void evalIsDeterministicAndTrainingAppliesDropout() throws Exception {
        var m = HfModels.sequenceClassifier(Fixtures.dir("hf/tiny-roberta"), manager, null);
        NDArray e1 = run(m.block(), robertaInputs(), false).head();
        NDArray e2 = run(m.block(), robertaInputs(), false).head();
        assertEquals(0f, e1.sub(e2).abs().max().getFloat());
        assertClose(golden.get("roberta.logits"), e1, "eval logits");
        NDArray t1 = run(m.block(), robertaInputs(), true).head();
        NDArray t2 = run(m.block(), robertaInputs(), true).head();
        assertTrue(t1.sub(t2).abs().max().getFloat() > 1e-4, "two training forwards should differ (dropout)");
        assertTrue(t1.sub(e1).abs().max().getFloat() > 1e-4, "training forward should differ from eval");
    }

    @Test
    void paddingDoesNotChangeTheOutputsOfRealTokens() throws Exception {
        // row 0 has two pad tokens; the same row without padding must give the same hidden states on its tokens
        var m = HfModels.sequenceClassifier(Fixtures.dir("hf/tiny-bert"), manager, null);
        Block base = BlockTree.modules(m.block()).get("bert");
        NDList in = bertInputs();
        NDArray ids = in.get(0).get("0:1, 0:7");
        NDList unpadded = new NDList(ids, in.get(1).get("0:1, 0:7"), in.get(2).get("0:1, 0:7"));
        NDArray full = run(base, in, false).head().get("0:1, 0:7, :");
        assertClose(full, run(base, unpadded, false).head(), "padded vs unpadded");
    }

    @Test
    void modulePathsAndStateDictKeysEqualTransformers() throws Exception {
        JsonObject names =
                JsonParser.parseString(Fixtures.text("hf/module_names.json")).getAsJsonObject();
        for (String model : List.of("roberta", "bert")) {
            var m = HfModels.sequenceClassifier(Fixtures.dir("hf/tiny-" + model), manager, null);
            List<String> linear = new ArrayList<>();
            BlockTree.modules(m.block()).forEach((path, b) -> {
                if (b instanceof Linear) {
                    linear.add(path);
                }
            });
            assertEquals(strings(names, model + "_linear"), linear, model + " Linear module paths");
            assertEquals(
                    strings(names, model + "_state_dict"),
                    new ArrayList<>(BlockTree.parameters(m.block()).keySet()),
                    model + " state-dict keys");
        }
    }

    static List<String> strings(JsonObject o, String key) {
        List<String> out = new ArrayList<>();
        o.getAsJsonArray(key).forEach(e -> out.add(e.getAsString()));
        return out;
    }
}
