package dev.delora.djl.persist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.delora.core.delora.DeloraAdapter;
import dev.delora.core.delora.DeloraConfig;
import dev.delora.core.lora.LoraConfig;
import dev.delora.djl.hf.HfConfig;
import dev.delora.djl.hf.HfExport;
import dev.delora.djl.hf.HfModels;
import dev.delora.djl.hf.HfSequenceClassifier;
import dev.delora.djl.io.Safetensors;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.fixtures.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Adapters saved by PEFT 0.21.2 ({@code parity/peft_adapters.py}) load here and give PEFT's logits; files written here
 * have PEFT's keys, shapes and config fields, and merged exports round-trip through transformers' and DJL's formats.
 */
class PeftGoldenTest {

    private static final double TOL = 1e-4;
    static NDManager manager;
    static Map<String, NDArray> golden;

    @TempDir
    Path tmp;

    @BeforeAll
    static void setUp() throws Exception {
        manager = NDManager.newBaseManager();
        golden = Safetensors.load(manager, Fixtures.path("peft/golden.safetensors"));
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    static HfModels.Loaded<HfSequenceClassifier> base() throws Exception {
        return HfModels.sequenceClassifier(Fixtures.dir("peft/base"), manager, null);
    }

    static NDArray logits(Block block) {
        NDList in = new NDList(golden.get("input_ids"), golden.get("attention_mask"));
        return block.forward(new ParameterStore(manager, false), in, false).head();
    }

    static float maxDiff(NDArray a, NDArray b) {
        assertEquals(a.getShape(), b.getShape());
        return a.sub(b).abs().max().getFloat();
    }

    static void assertLogits(String goldenKey, Block block, double tol) {
        float d = maxDiff(golden.get(goldenKey), logits(block));
        assertTrue(d <= tol, goldenKey + ": max |diff| " + d + " > " + tol);
    }

    static Map<String, Shape> shapes(Path file) throws Exception {
        try (Safetensors.Reader r = Safetensors.open(file)) {
            Map<String, Shape> out = new TreeMap<>();
            r.tensors().forEach((k, t) -> out.put(k, t.shape()));
            return out;
        }
    }

    static JsonObject json(Path file) throws Exception {
        return JsonParser.parseString(Files.readString(file)).getAsJsonObject();
    }

    @Test
    void peftLoraLoadsAndReproducesPeftLogitsUnmergedAndMerged() throws Exception {
        var m = base();
        assertLogits("logits_base", m.block(), TOL);
        AdaptedModel peft = PeftAdapters.load(m.block(), Fixtures.dir("peft/lora"));
        LoraConfig c = assertInstanceOf(LoraConfig.class, peft.adapters().get("default"));
        assertEquals(4, c.r());
        assertEquals(2f, c.scalingFor("roberta.encoder.layer.0.attention.self.query"));
        assertEquals(4, peft.adaptedModules().size());
        // both the adapter and the saved head must show in the logits, or this test could not tell them apart
        assertTrue(maxDiff(golden.get("logits_lora"), golden.get("logits_base")) > 1e-2);
        assertTrue(maxDiff(golden.get("logits_lora"), golden.get("logits_lora_head_only")) > 1e-2);
        assertLogits("logits_lora", m.block(), TOL);
        peft.merge();
        assertLogits("logits_lora_merged", m.block(), TOL);
        Block plain = peft.mergeAndUnload();
        assertLogits("logits_lora_merged", plain, TOL);
    }

    @Test
    void peftDeloraLoadsWithPerModuleLambdaAndReproducesPeftLogits() throws Exception {
        var m = base();
        AdaptedModel peft = PeftAdapters.load(m.block(), Fixtures.dir("peft/delora"));
        DeloraConfig c = assertInstanceOf(DeloraConfig.class, peft.adapters().get("default"));
        assertEquals(6, peft.adaptedModules().size(), "query, value, intermediate.dense in 2 layers");
        // the saved λ is the module's, not the config's 15
        float lambda = peft.adaptedModules()
                .get("roberta.encoder.layer.1.intermediate.dense")
                .adapters()
                .get("default")
                .parameters()
                .get(DeloraAdapter.LAMBDA)
                .getArray()
                .getFloat();
        assertTrue(lambda >= 12 && lambda <= 18 && lambda != c.deloraLambda(), "lambda " + lambda);
        assertTrue(maxDiff(golden.get("logits_delora"), golden.get("logits_delora_head_only")) > 1e-2);
        assertLogits("logits_delora", m.block(), TOL);
        assertLogits("logits_delora_merged", peft.mergeAndUnload(), TOL);
    }

    @Test
    void javaSavedLoraAndDeloraHavePeftsExactKeysShapesAndConfigFields() throws Exception {
        for (String set : new String[] {"lora", "delora"}) {
            var m = base();
            AdaptedModel peft = PeftAdapters.load(m.block(), Fixtures.dir("peft/" + set));
            Path out = PeftAdapters.save(peft, tmp.resolve(set));
            Path fixture = Fixtures.dir("peft/" + set);
            assertEquals(
                    shapes(fixture.resolve(PeftAdapters.WEIGHTS_FILE)),
                    shapes(out.resolve(PeftAdapters.WEIGHTS_FILE)),
                    set + ": keys and shapes");
            try (Safetensors.Reader r = Safetensors.open(out.resolve(PeftAdapters.WEIGHTS_FILE))) {
                assertEquals("pt", r.metadata().get("format"));
            }
            JsonObject ours = json(out.resolve(PeftAdapters.CONFIG_FILE));
            JsonObject theirs = json(fixture.resolve(PeftAdapters.CONFIG_FILE));
            for (Map.Entry<String, JsonElement> e : ours.entrySet()) {
                assertTrue(theirs.has(e.getKey()), set + ": field '" + e.getKey() + "' is not one of PEFT's");
                if (Set.of("inference_mode", "base_model_name_or_path", "modules_to_save")
                        .contains(e.getKey())) {
                    continue; // descriptive; modules_to_save: PEFT appends "score", which RoBERTa lacks
                }
                assertEquals(theirs.get(e.getKey()), e.getValue(), set + ": field '" + e.getKey() + "'");
            }
            assertEquals("[\"classifier\"]", ours.get("modules_to_save").toString());

            // and back: a fresh base with the Java folder gives PEFT's logits
            var again = base();
            PeftAdapters.load(again.block(), out);
            assertLogits("logits_" + set, again.block(), TOL);
        }
    }

    @Test
    void mergedExportRoundTripsThroughHfFolderAndDjlModelSave() throws Exception {
        var m = base();
        AdaptedModel peft = PeftAdapters.load(m.block(), Fixtures.dir("peft/delora"));
        Block merged = peft.mergeAndUnload();
        HfConfig cfg = m.config();

        Path hf = tmp.resolve("hf");
        HfExport.save(merged, cfg, null, hf);
        assertEquals(
                shapes(Fixtures.path("peft/delora_merged/model.safetensors")), shapes(hf.resolve("model.safetensors")));
        assertLogits(
                "logits_delora_merged",
                HfModels.sequenceClassifier(hf, manager, null).block(),
                TOL);

        Path djl = tmp.resolve("djl");
        try (Model model = Model.newInstance("merged")) {
            model.setBlock(merged);
            model.save(djl, "merged");
        }
        try (Model model = Model.newInstance("merged")) {
            HfSequenceClassifier fresh = new HfSequenceClassifier(cfg);
            HfModels.initialize(fresh, cfg, model.getNDManager());
            model.setBlock(fresh);
            model.load(djl, "merged");
            assertLogits("logits_delora_merged", fresh, TOL);
        }
    }
}
