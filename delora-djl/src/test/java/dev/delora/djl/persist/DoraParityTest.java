package dev.delora.djl.persist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import com.google.gson.JsonObject;
import dev.delora.core.FrozenLinear;
import dev.delora.core.LinearAdapter;
import dev.delora.core.WeightUpdate;
import dev.delora.core.dora.DoraAdapter;
import dev.delora.core.dora.DoraConfig;
import dev.delora.core.dora.DoraMethod;
import dev.delora.core.lora.LoraAdapter;
import dev.delora.core.lora.LoraConfig;
import dev.delora.djl.hf.HfModels;
import dev.delora.djl.hf.HfSequenceClassifier;
import dev.delora.djl.io.Safetensors;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.djl.peft.LoraForm;
import dev.delora.djl.tree.BlockTree;
import dev.delora.fixtures.Fixtures;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * DoRA against PEFT 0.21.2's golden vectors ({@code parity/dora.py}): one layer's forward, gradients of A, B and the
 * magnitude, merge and unmerge; a PEFT-saved DoRA adapter loading here with PEFT's logits, merged logits and
 * training gradients; and our save of it having PEFT's keys, shapes and fields.
 */
class DoraParityTest {

    private static final double TOL = 1e-4;
    private static NDManager manager;
    private static Map<String, NDArray> layer;
    private static Map<String, NDArray> golden;

    @TempDir
    Path tmp;

    @BeforeAll
    static void setUp() throws Exception {
        manager = NDManager.newBaseManager();
        layer = Safetensors.load(manager, Fixtures.path("dora/layer.safetensors"));
        golden = Safetensors.load(manager, Fixtures.path("dora/golden.safetensors"));
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    private static NDArray get(String key) {
        NDArray a = layer.get(key);
        assertNotNull(a, "fixture has no " + key);
        return a;
    }

    private static float relDiff(NDArray expected, NDArray actual) {
        assertEquals(expected.getShape(), actual.getShape());
        return expected.sub(actual).abs().max().getFloat()
                / Math.max(1e-3f, expected.abs().max().getFloat());
    }

    private static DoraConfig config(boolean rslora) {
        return new DoraConfig(LoraConfig.builder()
                .r(4)
                .loraAlpha(8)
                .useRslora(rslora)
                .targetModules("lin")
                .build());
    }

    @ParameterizedTest
    @ValueSource(strings = {"plain", "rslora"})
    void layerForwardGradientsAndMergeMatchPeft(String c) {
        try (NDManager m = manager.newSubManager()) {
            NDArray w = get(c + "/weight");
            NDArray b = get(c + "/bias");
            Map<String, NDArray> state = Map.of(
                    LoraAdapter.A, get(c + "/lora_A"),
                    LoraAdapter.B, get(c + "/lora_B"),
                    DoraAdapter.MAGNITUDE, get(c + "/magnitude"));
            LinearAdapter adapter = new DoraMethod().restore(config(c.equals("rslora")), "lin", state, w, m);
            assertEquals(
                    get(c + "/scaling").getFloat(0),
                    config(c.equals("rslora")).lora().scalingFor("lin"));
            NDArray x = get(c + "/x");
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray y0 = x.matMul(w.transpose()).add(b);
                NDArray y = y0.add(adapter.forward(x, new FrozenLinear(w, b, y0), Parameter::getArray, true));
                assertTrue(relDiff(get(c + "/y"), y) < 1e-5, c + " forward");
                gc.backward(y.mul(get(c + "/r_weights")).sum());
            }
            Map<String, String> grads =
                    Map.of(LoraAdapter.A, "grad_A", LoraAdapter.B, "grad_B", DoraAdapter.MAGNITUDE, "grad_magnitude");
            grads.forEach((key, fixture) -> {
                NDArray g = adapter.parameters().get(key).getArray().getGradient();
                assertTrue(relDiff(get(c + "/" + fixture), g) < 1e-4, c + " " + fixture);
            });
            try (WeightUpdate u = adapter.weightUpdate(w)) {
                NDArray merged = u.apply(w);
                assertTrue(relDiff(get(c + "/merged_weight"), merged) < 1e-5, c + " merge");
                assertTrue(relDiff(get(c + "/unmerged_weight"), u.revert(merged)) < 1e-5, c + " unmerge");
            }
            adapter.close();
        }
    }

    @Test
    void freshInitMagnitudeIsTheRowNormOfW() {
        try (NDManager m = manager.newSubManager()) {
            LinearAdapter adapter = config(false).create("lin", get("fresh/weight"), m);
            NDArray magnitude = adapter.parameters().get(DoraAdapter.MAGNITUDE).getArray();
            assertTrue(relDiff(get("fresh/magnitude_init"), magnitude) < 1e-6);
            adapter.close();
        }
    }

    @Test
    void peftDoraAdapterLoadsWithPeftsLogitsMergedAndUnmerged() throws Exception {
        var m = base();
        AdaptedModel peft = PeftAdapters.load(m.block(), Fixtures.dir("dora/adapter"));
        assertInstanceOf(DoraConfig.class, peft.adapters().get("default"));
        assertTrue(PeftGoldenTest.maxDiff(golden.get("logits_adapter"), golden.get("logits_base")) > 1e-2);
        assertLogits("logits_adapter", m.block());
        peft.merge();
        assertLogits("logits_merged", m.block());
        peft.unmerge();
        assertLogits("logits_adapter", m.block());
        assertLogits("logits_merged", peft.mergeAndUnload());
    }

    @Test
    void trainingGradientsMatchPeft() throws Exception {
        var m = base();
        PeftAdapters.load(m.block(), Fixtures.dir("dora/adapter"), AdaptedModel.DEFAULT_ADAPTER, true);
        Map<String, Parameter> params = BlockTree.parameters(m.block());
        Map<String, Float> worst = new TreeMap<>();
        try (NDManager step = manager.newSubManager();
                GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDList in = new NDList(
                    golden.get("input_ids").duplicate(),
                    golden.get("attention_mask").duplicate());
            in.attach(step);
            // PEFT's gradients were taken with every dropout off: an inference-mode forward here, with gradients
            NDArray logits = m.block()
                    .forward(new ParameterStore(step, false), in, false)
                    .head();
            NDArray oneHot = step.create(new float[] {2, 0})
                    .toType(DataType.INT64, false)
                    .oneHot(3)
                    .toType(DataType.FLOAT32, false)
                    .duplicate();
            NDArray loss =
                    logits.logSoftmax(-1).mul(oneHot).sum(new int[] {1}).neg().mean();
            assertEquals(golden.get("loss").getFloat(0), loss.getFloat(), 1e-5);
            gc.backward(loss);
            for (Map.Entry<String, NDArray> e : golden.entrySet()) {
                if (!e.getKey().startsWith("grad/")) {
                    continue;
                }
                // PEFT's in-memory name keeps the magnitude's ".weight"; ours is the saved key's
                String name = e.getKey()
                        .substring("grad/".length())
                        .replace("lora_magnitude_vector.default.weight", "lora_magnitude_vector.default");
                Parameter p = params.get(name);
                assertNotNull(p, "no parameter " + name + " in " + params.keySet());
                worst.put(name, relDiff(e.getValue(), p.getArray().getGradient()));
            }
        }
        assertEquals(
                12, worst.keySet().stream().filter(k -> k.contains("lora_")).count(), worst.toString());
        worst.forEach((name, rel) -> assertTrue(rel < 1e-4f, name + ": " + rel));
    }

    @Test
    void javaSavedDoraHasPeftsKeysShapesAndFieldsAndNoLoraForm() throws Exception {
        var m = base();
        AdaptedModel peft = PeftAdapters.load(m.block(), Fixtures.dir("dora/adapter"));
        Path out = PeftAdapters.save(peft, tmp.resolve("dora"));
        Path fixture = Fixtures.dir("dora/adapter");
        assertEquals(
                PeftGoldenTest.shapes(fixture.resolve(PeftAdapters.WEIGHTS_FILE)),
                PeftGoldenTest.shapes(out.resolve(PeftAdapters.WEIGHTS_FILE)));
        JsonObject ours = PeftGoldenTest.json(out.resolve(PeftAdapters.CONFIG_FILE));
        assertEquals(true, ours.get("use_dora").getAsBoolean());
        assertEquals("LORA", ours.get("peft_type").getAsString());
        var again = base();
        PeftAdapters.load(again.block(), out);
        assertLogits("logits_adapter", again.block());

        assertTrue(!LoraForm.exists(peft, "default"));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> PeftAdapters.saveAsLora(peft, "default", tmp.resolve("as-lora")));
        assertTrue(e.getMessage().contains("no exact plain-LoRA form"), e.getMessage());
    }

    private static HfModels.Loaded<HfSequenceClassifier> base() throws Exception {
        return HfModels.sequenceClassifier(Fixtures.dir("peft/base"), manager, null);
    }

    private static NDArray logits(Block block) {
        NDList in = new NDList(golden.get("input_ids"), golden.get("attention_mask"));
        return block.forward(new ParameterStore(manager, false), in, false).head();
    }

    private static void assertLogits(String key, Block block) {
        float d = PeftGoldenTest.maxDiff(golden.get(key), logits(block));
        assertTrue(d <= TOL, key + ": max |diff| " + d);
    }
}
