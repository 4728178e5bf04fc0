package dev.delora.djl.peft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.transformer.ScaledDotProductAttentionBlock;
import dev.delora.core.AdapterConfig;
import dev.delora.core.delora.DeloraConfig;
import dev.delora.core.delora.DeloraInit;
import dev.delora.core.lora.LoraConfig;
import dev.delora.djl.tree.BlockTree;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Injection into DJL block trees, merging, unloading, several adapters and the error paths. */
class AdaptedModelTest {

    private NDManager manager;

    @BeforeEach
    void setUp() {
        Engine.getInstance().setRandomSeed(1);
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private static DeloraConfig randomDelora(String... targets) {
        return DeloraConfig.builder()
                .r(2)
                .deloraLambda(3)
                .init(DeloraInit.RANDOM)
                .targetModules(targets)
                .build();
    }

    @Test
    void injectionIntoAttentionBlockReachesTheFieldsItCalls() {
        ScaledDotProductAttentionBlock attention = ScaledDotProductAttentionBlock.builder()
                .setEmbeddingSize(8)
                .setHeadCount(2)
                .build();
        attention.initialize(manager, DataType.FLOAT32, new Shape(2, 5, 8));
        NDArray x = manager.randomNormal(new Shape(2, 5, 8));
        NDArray before = TestModels.forward(attention, manager, x);

        AdaptedModel peft = AdaptedModel.inject(attention, TestModels.randomLora("queryProjection", "valueProjection"));
        assertEquals(
                List.of("queryProjection", "valueProjection"),
                List.copyOf(peft.adaptedModules().keySet()));
        assertInstanceOf(AdaptedLinear.class, BlockTree.modules(attention).get("queryProjection"));
        NDArray adapted = TestModels.forward(attention, manager, x);
        assertTrue(TestModels.maxAbsDiff(before, adapted) > 1e-3, "the swapped fields must really be called");

        Block plain = peft.unload();
        assertFalse(BlockTree.modules(plain).values().stream().anyMatch(b -> b instanceof AdaptedLinear));
        assertEquals(0f, TestModels.maxAbsDiff(before, TestModels.forward(plain, manager, x)));
    }

    @Test
    void injectionIntoUserBlockWithFieldsAndSequentialBlock() {
        TestModels.TwoTower tower = new TestModels.TwoTower();
        tower.initialize(manager, DataType.FLOAT32, new Shape(3, 5));
        NDArray x = manager.randomNormal(new Shape(3, 5));
        NDArray before = TestModels.forward(tower, manager, x);
        AdaptedModel peft = AdaptedModel.inject(tower, randomDelora("gate"));
        assertInstanceOf(AdaptedLinear.class, tower.gate());
        assertSame(tower.gate(), tower.getChildren().get("02gate"));
        assertTrue(TestModels.maxAbsDiff(before, TestModels.forward(tower, manager, x)) > 1e-4);

        SequentialBlock mlp = TestModels.mlp(manager, 5);
        AdaptedModel seq = AdaptedModel.inject(mlp, TestModels.randomLora("01Linear"));
        assertInstanceOf(AdaptedLinear.class, mlp.getChildren().get(0).getValue());
        assertEquals(List.of("01Linear"), List.copyOf(seq.adaptedModules().keySet()));
        assertEquals(1, peft.adaptedModules().size());
    }

    @Test
    void mergedForwardEqualsAdaptedAndUnmergeRestoresWeights() {
        for (AdapterConfig config : List.<AdapterConfig>of(
                TestModels.randomLora("01Linear", "03Linear"),
                randomDelora("01Linear", "03Linear"),
                DeloraConfig.builder()
                        .r(2)
                        .deloraLambda(3)
                        .init(DeloraInit.PAPER)
                        .targetModules("01Linear")
                        .build())) {
            SequentialBlock mlp = TestModels.mlp(manager, 6);
            NDArray x = manager.randomNormal(new Shape(4, 6));
            Map<String, float[]> original = TestModels.snapshot(mlp);
            AdaptedModel peft = AdaptedModel.inject(mlp, config);
            if (config instanceof DeloraConfig d && d.init() == DeloraInit.PAPER) {
                // give the paper-mode adapter a non-zero ΔW by moving A away from its frozen copy
                peft.adaptedModules()
                        .get("01Linear")
                        .adapters()
                        .get("default")
                        .parameters()
                        .get("delora_A")
                        .getArray()
                        .addi(0.3f);
            }
            NDArray adapted = TestModels.forward(mlp, manager, x);
            peft.merge();
            assertTrue(peft.isMerged());
            assertThrows(IllegalStateException.class, peft::merge, "merging twice must fail");
            assertTrue(TestModels.maxAbsDiff(adapted, TestModels.forward(mlp, manager, x)) < 1e-5, config.peftType());
            peft.unmerge();
            Map<String, float[]> after = TestModels.snapshot(mlp);
            for (Map.Entry<String, float[]> e : original.entrySet()) {
                float[] now = after.get(e.getKey());
                for (int i = 0; i < now.length; i++) {
                    assertEquals(e.getValue()[i], now[i], 1e-6f, e.getKey());
                }
            }
            Block merged = peft.mergeAndUnload();
            assertFalse(BlockTree.modules(merged).values().stream().anyMatch(b -> b instanceof AdaptedLinear));
            assertTrue(TestModels.maxAbsDiff(adapted, TestModels.forward(merged, manager, x)) < 1e-5);
            assertThrows(IllegalStateException.class, peft::merge, "a handle is dead after unloading");
        }
    }

    @Test
    void mergeRefusesANonFiniteUpdateAndLeavesTheWeights() {
        SequentialBlock mlp = TestModels.mlp(manager, 6);
        AdaptedModel peft = AdaptedModel.inject(mlp, randomDelora("01Linear", "03Linear"));
        Map<String, float[]> before = TestModels.snapshot(mlp);
        // the second module fails after the first one has merged: the first must be rolled back
        peft.adaptedModules()
                .get("03Linear")
                .adapters()
                .get("default")
                .parameters()
                .get("delora_lambda")
                .getArray()
                .set(new ai.djl.ndarray.index.NDIndex(0), Float.NaN);
        IllegalStateException e = assertThrows(IllegalStateException.class, peft::merge);
        assertTrue(e.getMessage().contains("NaN/Inf"), e.getMessage());
        assertFalse(peft.isMerged());
        Map<String, float[]> after = TestModels.snapshot(mlp);
        for (String w : List.of("01Linear.weight", "03Linear.weight")) {
            float[] b = before.get(w);
            float[] a = after.get(w);
            for (int i = 0; i < b.length; i++) {
                assertEquals(b[i], a[i], 1e-6f, w + " is restored");
            }
        }

        // finite factors whose product overflows float32 are refused too
        SequentialBlock other = TestModels.mlp(manager, 6);
        AdaptedModel lora = AdaptedModel.inject(
                other, LoraConfig.builder().r(2).targetModules("01Linear").build());
        lora.adaptedModules()
                .get("01Linear")
                .adapters()
                .get("default")
                .parameters()
                .values()
                .forEach(p -> p.getArray().set(new ai.djl.ndarray.index.NDIndex(":"), 1e25f));
        e = assertThrows(IllegalStateException.class, lora::merge);
        assertTrue(e.getMessage().contains("NaN/Inf"), e.getMessage());
        assertFalse(lora.isMerged());
    }

    @Test
    void severalAdaptersCanBeSwitchedDisabledAndDeleted() throws Exception {
        SequentialBlock mlp = TestModels.mlp(manager, 6);
        NDArray x = manager.randomNormal(new Shape(4, 6));
        NDArray base = TestModels.forward(mlp, manager, x);
        AdaptedModel peft = AdaptedModel.inject(mlp, TestModels.randomLora("01Linear"));
        NDArray first = TestModels.forward(mlp, manager, x);
        peft.addAdapter("second", randomDelora("01Linear", "03Linear"));
        assertEquals("default", peft.activeAdapter());
        assertEquals(
                0f,
                TestModels.maxAbsDiff(first, TestModels.forward(mlp, manager, x)),
                "a new adapter is inactive until set");
        assertThrows(
                IllegalArgumentException.class, () -> peft.addAdapter("second", TestModels.randomLora("01Linear")));

        peft.setAdapter("second");
        NDArray second = TestModels.forward(mlp, manager, x);
        assertTrue(TestModels.maxAbsDiff(first, second) > 1e-4);
        // only the active adapter trains
        assertTrue(BlockTree.parameters(mlp).get("01Linear.delora_A.second").requiresGradient());
        assertFalse(
                BlockTree.parameters(mlp).get("01Linear.lora_A.default.weight").requiresGradient());

        // a Runnable cannot throw checked exceptions: this compiles only because close() throws none
        Runnable withoutAdapters = () -> {
            try (DisabledAdapters off = peft.disableAdapters()) {
                assertEquals(0f, TestModels.maxAbsDiff(base, TestModels.forward(mlp, manager, x)));
            }
        };
        withoutAdapters.run();
        assertEquals(0f, TestModels.maxAbsDiff(second, TestModels.forward(mlp, manager, x)));

        peft.deleteAdapter("second");
        assertEquals("default", peft.activeAdapter());
        assertEquals(0f, TestModels.maxAbsDiff(first, TestModels.forward(mlp, manager, x)));
        assertInstanceOf(Linear.class, mlp.getChildren().get(2).getValue());
        assertFalse(mlp.getChildren().get(2).getValue() instanceof AdaptedLinear, "emptied modules are unwrapped");
        peft.deleteAdapter("default"); // the last one, as PEFT allows (MultiAdapterTest covers that state)
        assertEquals(List.of(), peft.activeAdapters());
        assertEquals(0f, TestModels.maxAbsDiff(base, TestModels.forward(mlp, manager, x)));
    }

    @Test
    void badTargetsFailClearlyAndLeaveTheModelUnchanged() {
        SequentialBlock mlp = TestModels.mlp(manager, 6);
        List<Block> children = mlp.getChildren().values();
        Map<String, float[]> params = TestModels.snapshot(mlp);

        IllegalArgumentException none = assertThrows(
                IllegalArgumentException.class, () -> AdaptedModel.inject(mlp, TestModels.randomLora("query")));
        assertTrue(none.getMessage().contains("[01Linear, 03Linear]"), none.getMessage());

        IllegalArgumentException notLinear = assertThrows(
                IllegalArgumentException.class,
                () -> AdaptedModel.inject(mlp, TestModels.randomLora("01Linear", "LambdaBlock")));
        assertTrue(
                notLinear.getMessage().contains("LambdaBlock")
                        && notLinear.getMessage().contains("ai.djl.nn."),
                notLinear.getMessage());

        IllegalArgumentException save = assertThrows(
                IllegalArgumentException.class,
                () -> AdaptedModel.inject(
                        mlp,
                        LoraConfig.builder()
                                .targetModules("01Linear")
                                .modulesToSave("classifier")
                                .build()));
        assertTrue(save.getMessage().contains("classifier"), save.getMessage());

        assertEquals(children, mlp.getChildren().values());
        assertEquals(params.keySet(), TestModels.snapshot(mlp).keySet());
        assertTrue(
                BlockTree.parameters(mlp).values().stream().allMatch(p -> p.requiresGradient()),
                "a failed injection must not freeze anything");

        AdaptedModel.inject(mlp, TestModels.randomLora("01Linear"));
        assertThrows(
                IllegalStateException.class,
                () -> AdaptedModel.inject(mlp, TestModels.randomLora("03Linear")),
                "injecting into an adapted model must go through addAdapter");
    }

    @Test
    void fieldThatCannotTakeTheAdapterAbortsTheWholeInjection() {
        final class Special extends Linear {
            Special() {
                super(Linear.builder().setUnits(6));
            }
        }
        final class Holder extends ai.djl.nn.AbstractBlock {
            final Linear plain =
                    addChildBlock("plain", Linear.builder().setUnits(6).build());
            Special special = addChildBlock("special", new Special());

            @Override
            protected ai.djl.ndarray.NDList forwardInternal(
                    ai.djl.training.ParameterStore ps,
                    ai.djl.ndarray.NDList in,
                    boolean t,
                    ai.djl.util.PairList<String, Object> p) {
                return special.forward(ps, plain.forward(ps, in, t, p), t, p);
            }

            @Override
            public Shape[] getOutputShapes(Shape[] inputs) {
                return plain.getOutputShapes(inputs);
            }

            @Override
            protected void initializeChildBlocks(NDManager m, DataType d, Shape... s) {
                plain.initialize(m, d, s);
                special.initialize(m, d, plain.getOutputShapes(s));
            }
        }
        Holder holder = new Holder();
        holder.initialize(manager, DataType.FLOAT32, new Shape(2, 6));
        assertThrows(IllegalStateException.class, () -> AdaptedModel.inject(holder, TestModels.randomLora("special")));
        assertFalse(holder.getChildren().values().stream().anyMatch(b -> b instanceof AdaptedLinear));
        // the final field cannot be rewired either, and nothing else was swapped meanwhile
        IllegalStateException e = assertThrows(
                IllegalStateException.class, () -> AdaptedModel.inject(holder, TestModels.randomLora("plain")));
        assertTrue(e.getMessage().contains("final"), e.getMessage());
        assertNotSame(
                AdaptedLinear.class, holder.getChildren().get(0).getValue().getClass());
    }

    @Test
    void trainableReportCountsAdapterAndSavedModules() {
        SequentialBlock mlp = TestModels.mlp(manager, 6); // 6→8 (56 params), 8→3 (27 params)
        AdaptedModel peft = AdaptedModel.inject(
                mlp,
                LoraConfig.builder()
                        .r(2)
                        .targetModules("01Linear")
                        .modulesToSave("03Linear")
                        .build());
        ParameterCounts report = ParameterCounts.of(peft);
        long lora = 2 * (6 + 8);
        assertEquals(lora + 27, report.trainable());
        assertEquals(56 + 27 + lora, report.total());
        assertEquals(Map.of("01Linear", lora, "03Linear", 27L), report.perModule());
        assertEquals("trainable params: 55 || all params: 111 || trainable%: 49.5495", report.toString());
        assertArrayEquals(new boolean[] {false, false}, new boolean[] {
            BlockTree.parameters(mlp).get("01Linear.weight").requiresGradient(),
            BlockTree.parameters(mlp).get("01Linear.bias").requiresGradient()
        });
    }
}
