package dev.delora.djl.peft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.delora.core.delora.DeloraConfig;
import dev.delora.core.delora.DeloraInit;
import dev.delora.core.dora.DoraConfig;
import dev.delora.core.lora.LoraConfig;
import dev.delora.core.lora.LoraInit;
import dev.delora.core.loraxs.LoraXsConfig;
import dev.delora.core.sora.SoraConfig;
import dev.delora.djl.hf.decoder.CausalLm;
import dev.delora.djl.hf.decoder.DecoderModels;
import dev.delora.djl.io.Safetensors;
import dev.delora.fixtures.Fixtures;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Mixed-adapter batches for every registered method, on block trees that drop forward parameters (DJL's
 * {@code SequentialBlock}, through {@link AdaptedModel#useAdapterNames}) and in greedy generation: each row equals that
 * row run alone with its adapter active. PEFT's own numbers are in {@link MultiAdapterTest}.
 */
class MixedBatchTest {

    private NDManager manager;

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

    @Test
    void mixedBatchWorksForEveryMethodAndEqualsTheRowsRunAlone() throws Exception {
        SequentialBlock mlp = TestModels.mlp(manager, 6);
        AdaptedModel peft = AdaptedModel.inject(
                mlp,
                LoraConfig.builder()
                        .r(2)
                        .loraAlpha(4)
                        .initLoraWeights(LoraInit.RANDOM)
                        .targetModules("01Linear", "03Linear")
                        .build(),
                "lora");
        peft.addAdapter(
                "delora",
                DeloraConfig.builder()
                        .r(2)
                        .deloraLambda(3)
                        .init(DeloraInit.RANDOM)
                        .targetModules("01Linear")
                        .build());
        peft.addAdapter(
                "dora",
                new DoraConfig(LoraConfig.builder()
                        .r(2)
                        .loraAlpha(4)
                        .initLoraWeights(LoraInit.RANDOM)
                        .targetModules("01Linear", "03Linear")
                        .build()));
        peft.addAdapter(
                "loraxs", LoraXsConfig.builder().r(2).targetModules("03Linear").build());
        peft.addAdapter(
                "sora",
                SoraConfig.builder().r(2).loraAlpha(4).targetModules("01Linear").build());
        List<String> names = List.of("dora", "lora", "__base__", "delora", "loraxs", "sora", "lora", "dora");
        NDArray x = manager.randomNormal(new Shape(names.size(), 2, 6)); // [rows, seq, in]: rows lead
        NDArray active = forward(mlp, new NDList(x), null);
        // DJL's SequentialBlock does not pass forward parameters on: the names must come through the scope
        assertEquals(0f, TestModels.maxAbsDiff(active, forward(mlp, new NDList(x), peft.adapterNames(names))));
        NDArray mixed;
        try (MixedBatchScope scope = peft.useAdapterNames(names)) {
            mixed = forward(mlp, new NDList(x), null);
        }
        assertEquals(
                0f,
                TestModels.maxAbsDiff(active, forward(mlp, new NDList(x), null)),
                "closed: the active adapter again");
        for (int i = 0; i < names.size(); i++) {
            NDArray xi = x.get(new NDIndex("{}:{}", i, i + 1));
            NDArray alone;
            if (names.get(i).equals(AdaptedModel.NO_ADAPTER)) {
                try (DisabledAdapters off = peft.disableAdapters()) {
                    alone = forward(mlp, new NDList(xi), null);
                }
            } else {
                peft.setAdapter(names.get(i));
                alone = forward(mlp, new NDList(xi), null);
            }
            TestModels.assertClose(
                    alone, mixed.get(new NDIndex("{}:{}", i, i + 1)), 1e-5, "row " + i + " " + names.get(i));
        }
        // the adapters really differ row by row
        assertTrue(TestModels.maxAbsDiff(mixed.get(new NDIndex("0:1")), mixed.get(new NDIndex("1:2"))) > 1e-4);
        // disabled adapters: every row is the base's (PEFT checks the names, then runs the base layer)
        try (DisabledAdapters off = peft.disableAdapters()) {
            NDArray plain = forward(mlp, new NDList(x), null);
            try (MixedBatchScope scope = peft.useAdapterNames(names)) {
                assertEquals(0f, TestModels.maxAbsDiff(plain, forward(mlp, new NDList(x), null)));
            }
            try (MixedBatchScope none = peft.useAdapterNames(Collections.nCopies(names.size(), "__base__"))) {
                assertEquals(0f, TestModels.maxAbsDiff(plain, forward(mlp, new NDList(x), null)));
            }
        }
        peft.setAdapter("lora");
        // another thread does not see this thread's scope
        try (MixedBatchScope scope = peft.useAdapterNames(names)) {
            NDArray[] other = new NDArray[1];
            Thread t = new Thread(() -> other[0] = forward(mlp, new NDList(x), null));
            t.start();
            t.join();
            assertEquals(0f, TestModels.maxAbsDiff(active, other[0]));
        }
    }

    @Test
    void greedyGenerationTakesPerRowAdaptersThroughTheScope() throws Exception {
        Map<String, NDArray> golden = Safetensors.load(manager, Fixtures.path("decoders/golden.safetensors"));
        NDArray ids = golden.get("tiny-llama/input_ids");
        NDArray mask = golden.get("tiny-llama/attention_mask");
        CausalLm lm = DecoderModels.causalLm(Fixtures.dir("decoders/tiny-llama"), manager)
                .block();
        AdaptedModel peft = AdaptedModel.inject(lm, TestModels.randomLora("q_proj", "v_proj"), "a");
        peft.addAdapter("b", TestModels.randomLora("q_proj", "up_proj"));
        List<String> names = List.of("b", "a");
        long[][] alone = new long[names.size()][];
        for (int i = 0; i < names.size(); i++) {
            peft.setAdapter(names.get(i));
            NDIndex row = new NDIndex("{}:{}", i, i + 1);
            alone[i] = lm.generateGreedy(ids.get(row), mask.get(row), 6).toLongArray();
        }
        long[] plain;
        try (DisabledAdapters off = peft.disableAdapters()) {
            plain = lm.generateGreedy(ids, mask, 6).toLongArray();
        }
        long[] mixed;
        try (MixedBatchScope scope = peft.useAdapterNames(names)) {
            mixed = lm.generateGreedy(ids, mask, 6).toLongArray(); // every step's batch keeps the rows
        }
        for (int i = 0; i < names.size(); i++) {
            assertArrayEquals(alone[i], java.util.Arrays.copyOfRange(mixed, 6 * i, 6 * i + 6), "row " + i);
        }
        assertFalse(java.util.Arrays.equals(plain, mixed), "the random adapters change the tokens");
    }
}
