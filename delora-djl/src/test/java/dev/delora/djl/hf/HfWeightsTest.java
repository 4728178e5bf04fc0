package dev.delora.djl.hf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.delora.djl.io.Safetensors;
import dev.delora.djl.io.SafetensorsCheckpoint;
import dev.delora.djl.tree.BlockTree;
import dev.delora.fixtures.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Missing/unexpected keys, base-model prefixes and legacy names, compared with what transformers reports. */
class HfWeightsTest {

    private static NDManager manager;
    private static Map<String, NDArray> golden;
    private static final JsonObject INFO =
            JsonParser.parseString(Fixtures.text("hf/loading_info.json")).getAsJsonObject();

    @BeforeAll
    static void setUp() throws Exception {
        manager = NDManager.newBaseManager();
        golden = Safetensors.load(manager, Fixtures.path("hf/golden.safetensors"));
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    static List<String> sorted(JsonObject o, String a, String b) {
        List<String> out = new ArrayList<>();
        o.getAsJsonObject(a).getAsJsonArray(b).forEach(e -> out.add(e.getAsString()));
        return out;
    }

    static NDList bertInputs() {
        return new NDList(
                golden.get("bert.input_ids"), golden.get("bert.attention_mask"), golden.get("bert.token_type_ids"));
    }

    @Test
    void aNewNumberOfLabelsReinitialisesOnlyTheHead() throws Exception {
        var m = HfModels.sequenceClassifier(Fixtures.dir("hf/tiny-bert"), manager, 2); // checkpoint has 3 labels
        assertEquals(
                java.util.List.of("classifier.weight", "classifier.bias"),
                m.report().missingKeys());
        assertEquals(
                new ai.djl.ndarray.types.Shape(2, m.config().hiddenSize()),
                BlockTree.parameters(m.block())
                        .get("classifier.weight")
                        .getArray()
                        .getShape());
        var same = HfModels.sequenceClassifier(Fixtures.dir("hf/tiny-bert"), manager, null);
        assertEquals(
                0f,
                BlockTree.parameters(m.block())
                        .get("bert.pooler.dense.weight")
                        .getArray()
                        .sub(BlockTree.parameters(same.block())
                                .get("bert.pooler.dense.weight")
                                .getArray())
                        .abs()
                        .max()
                        .getFloat(),
                "everything but the head is loaded");
    }

    @Test
    void bareEncoderCheckpointLoadsIntoClassifierWithNewHeadReported() throws Exception {
        var m = HfModels.sequenceClassifier(Fixtures.dir("hf/tiny-bert-base"), manager, 3);
        List<String> missing = new ArrayList<>(m.report().missingKeys());
        missing.sort(null);
        assertEquals(sorted(INFO, "base_into_classifier", "missing_keys"), missing);
        assertEquals(
                sorted(INFO, "base_into_classifier", "unexpected_keys"),
                m.report().unexpectedKeys());
        String msg = String.join("\n", m.report().messages());
        assertTrue(
                msg.contains("Some weights of BertForSequenceClassification were not initialized from the model "
                                + "checkpoint at")
                        && msg.contains("newly initialized: [classifier.weight, classifier.bias]"),
                msg);
        // the encoder weights arrived under the bert. prefix
        NDArray hidden = BlockTree.modules(m.block())
                .get("bert")
                .forward(new ParameterStore(manager, false), bertInputs(), false)
                .head();
        assertTrue(golden.get("bert.last_hidden_state").sub(hidden).abs().max().getFloat() < 1e-4);
    }

    @Test
    void classifierCheckpointLoadsIntoBareEncoderWithUnusedHeadReported() throws Exception {
        var m = HfModels.encoder(Fixtures.dir("hf/tiny-bert"), manager);
        assertEquals(
                sorted(INFO, "classifier_into_base", "missing_keys"), m.report().missingKeys());
        List<String> unexpected = new ArrayList<>(m.report().unexpectedKeys());
        unexpected.sort(null);
        assertEquals(sorted(INFO, "classifier_into_base", "unexpected_keys"), unexpected);
        assertTrue(m.report().messages().get(0).contains("were not used when initializing BertModel"));
        NDList out = m.block().forward(new ParameterStore(manager, false), bertInputs(), false);
        assertTrue(golden.get("bert.pooler_output").sub(out.get(1)).abs().max().getFloat() < 1e-4);
    }

    @Test
    void legacyGammaBetaNamesLoad(@TempDir Path dir) throws Exception {
        Path src = Fixtures.dir("hf/tiny-bert");
        Map<String, NDArray> renamed = new LinkedHashMap<>();
        try (NDManager tmp = manager.newSubManager()) {
            Safetensors.load(tmp, src.resolve("model.safetensors"))
                    .forEach((k, v) -> renamed.put(
                            k.replace("LayerNorm.weight", "LayerNorm.gamma")
                                    .replace("LayerNorm.bias", "LayerNorm.beta"),
                            v));
            Safetensors.write(dir.resolve("model.safetensors"), renamed, Map.of());
        }
        Files.copy(src.resolve("config.json"), dir.resolve("config.json"));
        var m = HfModels.sequenceClassifier(dir, manager, null);
        assertTrue(
                m.report().missingKeys().isEmpty()
                        && m.report().unexpectedKeys().isEmpty(),
                m.report().toString());
        assertEquals(
                "bert.embeddings.LayerNorm.weight", m.report().renamedKeys().get("bert.embeddings.LayerNorm.gamma"));
        NDArray logits = m.block()
                .forward(new ParameterStore(manager, false), bertInputs(), false)
                .head();
        assertTrue(golden.get("bert.logits").sub(logits).abs().max().getFloat() < 1e-4);
    }

    @Test
    void shapeMismatchNamesBothShapesAndLeavesTheModelUntouched() throws Exception {
        HfConfig cfg = HfConfig.load(Fixtures.dir("hf/tiny-bert")).withNumLabels(5);
        HfSequenceClassifier model = new HfSequenceClassifier(cfg);
        HfModels.initialize(model, cfg, manager);
        NDArray before = BlockTree.parameters(model)
                .get("bert.embeddings.word_embeddings.weight")
                .getArray()
                .duplicate();
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(Fixtures.dir("hf/tiny-bert"))) {
            IllegalArgumentException e = assertThrows(
                    IllegalArgumentException.class,
                    () -> HfWeights.load(model, "BertForSequenceClassification", "bert", ckpt, manager));
            assertTrue(
                    e.getMessage().contains("classifier.weight")
                            && e.getMessage().contains("(3, 32)")
                            && e.getMessage().contains("(5, 32)"),
                    e.getMessage());
        }
        NDArray after = BlockTree.parameters(model)
                .get("bert.embeddings.word_embeddings.weight")
                .getArray();
        assertEquals(0f, before.sub(after).abs().max().getFloat());
    }
}
