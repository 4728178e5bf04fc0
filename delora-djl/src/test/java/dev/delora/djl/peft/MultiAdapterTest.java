package dev.delora.djl.peft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.delora.core.dora.DoraConfig;
import dev.delora.core.lora.LoraConfig;
import dev.delora.core.lora.LoraInit;
import dev.delora.djl.hf.HfModels;
import dev.delora.djl.io.Safetensors;
import dev.delora.djl.persist.PeftAdapters;
import dev.delora.djl.tree.BlockTree;
import dev.delora.fixtures.Fixtures;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * PEFT's multi-adapter API: several active adapters and mixed-adapter batches against PEFT 0.21.2's logits
 * ({@code parity/multi_adapters.py}), and against running the rows one by one; deleting the last adapter; per-adapter
 * unmerge.
 */
class MultiAdapterTest {

    private static final double TOL = 1e-4;
    /** The per-row names of {@code logits_mixed} (the script's MIXED, also in the file's metadata). */
    private static final List<String> MIXED = List.of("task1", AdaptedModel.NO_ADAPTER, "task2", "task1", "task2");

    private NDManager manager;

    @TempDir
    Path tmp;

    @BeforeEach
    void setUp() {
        Engine.getInstance().setRandomSeed(7);
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private NDArray forward(Block block, NDList in, PairList<String, Object> params) {
        return block.forward(new ParameterStore(manager, false), in, false, params)
                .head();
    }

    private record Peft(Block block, AdaptedModel model, Map<String, NDArray> golden, NDList inputs) {}

    private Peft loadBoth() throws Exception {
        Map<String, NDArray> golden = Safetensors.load(manager, Fixtures.path("multi/golden.safetensors"));
        Block block = HfModels.sequenceClassifier(Fixtures.dir("peft/base"), manager, null)
                .block();
        AdaptedModel peft = PeftAdapters.load(block, Fixtures.dir("multi/task1"), "task1");
        PeftAdapters.load(peft, Fixtures.dir("multi/task2"), "task2");
        return new Peft(block, peft, golden, new NDList(golden.get("input_ids"), golden.get("attention_mask")));
    }

    @Test
    void severalActiveAdaptersSumTheirUpdatesAsPeft() throws Exception {
        Peft p = loadBoth();
        AdaptedModel peft = p.model();
        TestModels.assertClose(p.golden().get("logits_task1"), forward(p.block(), p.inputs(), null), TOL, "task1");
        peft.setAdapter("task2");
        TestModels.assertClose(p.golden().get("logits_task2"), forward(p.block(), p.inputs(), null), TOL, "task2");

        peft.setAdapters(List.of("task1", "task2"));
        assertEquals(List.of("task1", "task2"), peft.activeAdapters());
        assertEquals("task1", peft.activeAdapter(), "the first of the active adapters");
        assertTrue(
                TestModels.maxAbsDiff(p.golden().get("logits_both"), p.golden().get("logits_task1")) > 1e-2);
        NDArray both = forward(p.block(), p.inputs(), null);
        TestModels.assertClose(p.golden().get("logits_both"), both, TOL, "both active");

        // merging with no names merges every active adapter (PEFT)
        peft.merge();
        assertEquals(
                List.of("task1", "task2"),
                peft.adaptedModules()
                        .get("roberta.encoder.layer.0.attention.self.query")
                        .mergedAdapters());
        TestModels.assertClose(p.golden().get("logits_both"), forward(p.block(), p.inputs(), null), TOL, "both merged");
        peft.unmerge("task1");
        peft.setAdapters(List.of("task2", "task1")); // unmerges the rest; the order only changes the summation order
        assertFalse(peft.isMerged());
        TestModels.assertClose(both, forward(p.block(), p.inputs(), null), 1e-5, "both, other order");
    }

    @Test
    void mixedBatchGivesPeftLogitsAndEachRowItsOwnAdapter() throws Exception {
        Peft p = loadBoth();
        AdaptedModel peft = p.model();
        PairList<String, Object> params = peft.adapterNames(MIXED.toArray(String[]::new));
        assertEquals(MIXED, params.get(AdaptedModel.ADAPTER_NAMES));
        NDArray mixed = forward(p.block(), p.inputs(), params);
        TestModels.assertClose(p.golden().get("logits_mixed"), mixed, TOL, "mixed batch");
        assertEquals(List.of("task1"), peft.activeAdapters(), "a mixed batch does not change the active adapters");

        // each row alone, with its adapter active (or none), gives the same row
        for (int i = 0; i < MIXED.size(); i++) {
            NDIndex row = new NDIndex("{}:{}", i, i + 1);
            NDList one =
                    new NDList(p.inputs().get(0).get(row), p.inputs().get(1).get(row));
            NDArray alone;
            if (MIXED.get(i).equals(AdaptedModel.NO_ADAPTER)) {
                try (DisabledAdapters off = peft.disableAdapters()) {
                    alone = forward(p.block(), one, null);
                }
            } else {
                peft.setAdapter(MIXED.get(i));
                alone = forward(p.block(), one, null);
            }
            TestModels.assertClose(alone, mixed.get(row), 1e-5, "row " + i + " (" + MIXED.get(i) + ")");
        }

        // hand-built parameters (PEFT style) work as well, as a String[] too
        PairList<String, Object> raw = new PairList<>();
        raw.add(AdaptedModel.ADAPTER_NAMES, MIXED.toArray(String[]::new));
        assertEquals(0f, TestModels.maxAbsDiff(mixed, forward(p.block(), p.inputs(), raw)));
    }

    @Test
    void mixedBatchErrorsNameWhatWasFoundAndExpected() throws Exception {
        Peft p = loadBoth();
        AdaptedModel peft = p.model();
        IllegalArgumentException unknown =
                assertThrows(IllegalArgumentException.class, () -> peft.adapterNames("task1", "tsak2", "__base__"));
        assertTrue(unknown.getMessage().contains("[tsak2]"), unknown.getMessage());
        assertTrue(unknown.getMessage().contains("[task1, task2]"), unknown.getMessage());

        IllegalArgumentException count = assertThrows(
                IllegalArgumentException.class,
                () -> forward(p.block(), p.inputs(), peft.adapterNames("task1", "task2", "task1", "task1")));
        assertTrue(count.getMessage().contains("4 names"), count.getMessage());
        assertTrue(count.getMessage().contains("5 rows"), count.getMessage());

        PairList<String, Object> ok = peft.adapterNames(MIXED);
        IllegalStateException training = assertThrows(
                IllegalStateException.class,
                () -> p.block().forward(new ParameterStore(manager, false), p.inputs(), true, ok));
        assertTrue(training.getMessage().contains("inference only"), training.getMessage());

        PairList<String, Object> wrongType = new PairList<>();
        wrongType.add(AdaptedModel.ADAPTER_NAMES, "task1");
        assertThrows(IllegalArgumentException.class, () -> forward(p.block(), p.inputs(), wrongType));

        peft.merge("task2");
        IllegalStateException merged = assertThrows(IllegalStateException.class, () -> peft.adapterNames(MIXED));
        assertTrue(merged.getMessage().contains("merged"), merged.getMessage());
        // parameters built before the merge are refused by the modules themselves
        assertThrows(IllegalStateException.class, () -> forward(p.block(), p.inputs(), ok));
    }

    @Test
    void activeAdaptersAllTrainAndSetAdaptersValidatesFirst() {
        SequentialBlock mlp = TestModels.mlp(manager, 6);
        NDArray x = manager.randomNormal(new Shape(4, 6));
        NDArray base = TestModels.forward(mlp, manager, x);
        AdaptedModel peft = AdaptedModel.inject(mlp, TestModels.randomLora("01Linear"), "a");
        NDArray a = TestModels.forward(mlp, manager, x);
        peft.addAdapter("b", TestModels.randomLora("01Linear", "03Linear"));
        peft.addAdapter("c", TestModels.randomLora("03Linear"));
        peft.setAdapter("b");
        NDArray b = TestModels.forward(mlp, manager, x);

        peft.setAdapters(List.of("a", "b"));
        Map<String, ai.djl.nn.Parameter> params = BlockTree.parameters(mlp);
        assertTrue(params.get("01Linear.lora_A.a.weight").requiresGradient());
        assertTrue(params.get("03Linear.lora_B.b.weight").requiresGradient());
        assertFalse(params.get("03Linear.lora_A.c.weight").requiresGradient());
        assertFalse(params.get("01Linear.weight").requiresGradient());
        // 01Linear feeds a tanh, so only the first layer's updates add up; 03Linear sees the summed first layer
        NDArray ab = TestModels.forward(mlp, manager, x);
        assertTrue(TestModels.maxAbsDiff(ab, a) > 1e-4 && TestModels.maxAbsDiff(ab, b) > 1e-4);
        // the trainer builds one method's groups and extras: two active adapters are refused, not half-trained
        IllegalStateException two = assertThrows(
                IllegalStateException.class,
                () -> dev.delora.djl.train.MethodTraining.of(
                        peft, dev.delora.djl.train.TrainerSettings.builder().build()));
        assertTrue(two.getMessage().contains("exactly one active adapter, found 2 [a, b]"), two.getMessage());

        for (List<String> bad : List.of(List.<String>of(), List.of("a", "a"), List.of("a", "nope"))) {
            assertThrows(IllegalArgumentException.class, () -> peft.setAdapters(bad), bad.toString());
            assertEquals(List.of("a", "b"), peft.activeAdapters(), "unchanged after " + bad);
        }
        // deleting one active adapter leaves the other active alone
        peft.deleteAdapter("a");
        assertEquals(List.of("b"), peft.activeAdapters());
        assertEquals(0f, TestModels.maxAbsDiff(b, TestModels.forward(mlp, manager, x)));
        peft.setInferenceMode(true);
        assertFalse(params.get("03Linear.lora_B.b.weight").requiresGradient());
        assertTrue(TestModels.maxAbsDiff(base, b) > 1e-4);
    }

    @Test
    void deletingTheLastAdapterLeavesTheBaseModel() throws Exception {
        Peft p = loadBoth();
        AdaptedModel peft = p.model();
        Block block = p.block();
        peft.deleteAdapter("task1");
        assertEquals(List.of("task2"), peft.activeAdapters(), "the remaining adapter becomes active");
        peft.deleteAdapter("task2");
        assertEquals(List.of(), peft.activeAdapters());
        assertEquals(Map.of(), peft.adapters());
        assertEquals(Map.of(), peft.adaptedModules());
        assertFalse(BlockTree.nodes(block).values().stream().anyMatch(n -> n.block() instanceof AdaptedLinear));
        NDArray plain = forward(
                HfModels.sequenceClassifier(Fixtures.dir("peft/base"), manager, null)
                        .block(),
                p.inputs(),
                null);
        assertEquals(
                0f, TestModels.maxAbsDiff(plain, forward(block, p.inputs(), null)), "bit-identical to the base model");
        TestModels.assertClose(p.golden().get("logits_base"), plain, TOL, "PEFT's base logits");

        IllegalStateException none = assertThrows(IllegalStateException.class, peft::activeAdapter);
        assertTrue(none.getMessage().contains("no adapter"), none.getMessage());
        assertThrows(IllegalStateException.class, () -> peft.merge());
        assertThrows(IllegalStateException.class, () -> PeftAdapters.save(peft, tmp));
        assertThrows(IllegalArgumentException.class, () -> peft.setAdapter("task1"));
        assertEquals(Map.of(), peft.modulesToSaveParameters());
        assertTrue(BlockTree.parameters(block).values().stream().noneMatch(ai.djl.nn.Parameter::requiresGradient));
        assertEquals(
                0f,
                TestModels.maxAbsDiff(
                        plain,
                        forward(
                                block,
                                p.inputs(),
                                peft.adapterNames(
                                        List.of("__base__", "__base__", "__base__", "__base__", "__base__")))));

        // the handle still works: load again, and unload gives the plain block back
        PeftAdapters.load(peft, Fixtures.dir("multi/task2"), "task2");
        peft.setAdapter("task2");
        TestModels.assertClose(p.golden().get("logits_task2"), forward(block, p.inputs(), null), TOL, "reloaded");
        assertEquals(0f, TestModels.maxAbsDiff(plain, forward(peft.unload(), p.inputs(), null)));
    }

    @Test
    void unmergingOneAdapterKeepsTheOthersMerged() {
        SequentialBlock mlp = TestModels.mlp(manager, 6);
        NDArray x = manager.randomNormal(new Shape(4, 6));
        Linear first = (Linear) mlp.getChildren().get(0).getValue();
        float[] w0 = first.getParameters().get("weight").getArray().toFloatArray();
        AdaptedModel peft = AdaptedModel.inject(
                mlp,
                new DoraConfig(LoraConfig.builder()
                        .r(2)
                        .loraAlpha(4)
                        .initLoraWeights(LoraInit.RANDOM)
                        .targetModules("01Linear")
                        .build()),
                "dora");
        peft.addAdapter("a", TestModels.randomLora("01Linear", "03Linear"));
        peft.addAdapter("b", TestModels.randomLora("01Linear"));
        peft.setAdapter("a");
        NDArray onlyA = TestModels.forward(mlp, manager, x);
        peft.setAdapter("b");
        NDArray onlyB = TestModels.forward(mlp, manager, x);

        // additive updates: take out the first merged, the second stays
        peft.merge("a", "b");
        peft.unmerge("a");
        assertEquals(List.of("b"), peft.adaptedModules().get("01Linear").mergedAdapters());
        TestModels.assertClose(onlyB, TestModels.forward(mlp, manager, x), 1e-5, "b still merged");
        IllegalStateException notMerged = assertThrows(IllegalStateException.class, () -> peft.unmerge("a", "b"));
        assertTrue(notMerged.getMessage().contains("'a' is not merged"), notMerged.getMessage());
        assertEquals(List.of("b"), peft.adaptedModules().get("01Linear").mergedAdapters(), "nothing unmerged");
        peft.unmerge("b");
        assertArrayEquals(w0, first.getParameters().get("weight").getArray().toFloatArray(), 1e-6f);

        // DoRA merged under another adapter: its row scaling does not commute, and is still taken out exactly
        peft.setAdapter("a");
        peft.merge("dora", "a");
        peft.unmerge("dora");
        assertEquals(List.of("a"), peft.adaptedModules().get("01Linear").mergedAdapters());
        TestModels.assertClose(onlyA, TestModels.forward(mlp, manager, x), 1e-5, "a still merged after dora left");
        assertThrows(IllegalArgumentException.class, () -> peft.unmerge("nope"));
        peft.unmerge();
        assertArrayEquals(w0, first.getParameters().get("weight").getArray().toFloatArray(), 1e-5f);
    }
}
