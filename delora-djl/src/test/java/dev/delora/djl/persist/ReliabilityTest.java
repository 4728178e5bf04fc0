package dev.delora.djl.persist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import dev.delora.core.lora.LoraConfig;
import dev.delora.core.lora.LoraInit;
import dev.delora.djl.fixtures.TestThreads;
import dev.delora.djl.hf.HfSequenceClassifier;
import dev.delora.djl.peft.AdaptedLinear;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.djl.peft.TestModels;
import dev.delora.djl.tree.BlockTree;
import dev.delora.fixtures.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a server relies on: entry points work on any thread and on several at once (a model built on one thread,
 * then inference, saves and loads from 4 threads), failed operations leave the model as it was, and saves refuse what
 * cannot be loaded.
 */
class ReliabilityTest {

    @TempDir
    Path tmp;

    @BeforeAll
    static void setUp() throws Exception {
        PeftGoldenTest.setUp();
    }

    @AfterAll
    static void tearDown() {
        PeftGoldenTest.tearDown();
    }

    private static boolean hasAdapters(ai.djl.nn.Block block) {
        return BlockTree.nodes(block).values().stream().anyMatch(n -> n.block() instanceof AdaptedLinear);
    }

    @Test
    void aFailedLoadOnAnotherThreadLeavesTheModelAsItWas() throws Exception {
        Path broken = tmp.resolve("broken");
        Files.createDirectories(broken);
        Files.copy(
                Fixtures.dir("peft/lora").resolve(PeftAdapters.CONFIG_FILE), broken.resolve(PeftAdapters.CONFIG_FILE));
        byte[] weights = Files.readAllBytes(Fixtures.dir("peft/lora").resolve(PeftAdapters.WEIGHTS_FILE));
        Files.write(broken.resolve(PeftAdapters.WEIGHTS_FILE), java.util.Arrays.copyOf(weights, weights.length - 9));
        HfSequenceClassifier block = PeftGoldenTest.base().block();
        NDArray before = PeftGoldenTest.logits(block);
        assertThrows(
                IllegalArgumentException.class, () -> TestThreads.onNewThread(() -> PeftAdapters.load(block, broken)));
        assertFalse(hasAdapters(block));
        assertEquals(0f, PeftGoldenTest.maxDiff(before, PeftGoldenTest.logits(block)));
        // and the same model then loads a good folder, on yet another thread
        TestThreads.onNewThread(() -> PeftAdapters.load(block, Fixtures.dir("peft/lora")));
        assertTrue(
                PeftGoldenTest.maxDiff(PeftGoldenTest.golden.get("logits_lora"), PeftGoldenTest.logits(block)) <= 1e-4);
    }

    @Test
    void loadingIsForInferenceUnlessAskedToTrain() throws Exception {
        AdaptedModel frozen = PeftAdapters.load(PeftGoldenTest.base().block(), Fixtures.dir("peft/lora"));
        assertTrue(frozen.isInferenceMode());
        assertTrue(BlockTree.parameters(frozen.block()).values().stream().noneMatch(Parameter::requiresGradient));
        AdaptedModel trainable = PeftAdapters.load(
                PeftGoldenTest.base().block(), Fixtures.dir("peft/lora"), AdaptedModel.DEFAULT_ADAPTER, true);
        assertFalse(trainable.isInferenceMode());
        long lora = BlockTree.parameters(trainable.block()).entrySet().stream()
                .filter(e -> e.getValue().requiresGradient() && e.getKey().contains("lora_"))
                .count();
        assertTrue(lora > 0, "trainable LoRA tensors");
        assertTrue(
                BlockTree.parameters(trainable.block()).entrySet().stream()
                        .filter(e -> e.getKey().startsWith("classifier."))
                        .allMatch(e -> e.getValue().requiresGradient()),
                "the head trains");
    }

    @Test
    void savesRefuseWhatCouldNotBeLoadedAndLeaveTheFolder() throws Exception {
        try (NDManager manager = NDManager.newBaseManager()) {
            SequentialBlock net = TestModels.mlp(manager, 4);
            AdaptedModel peft = AdaptedModel.inject(
                    net,
                    LoraConfig.builder()
                            .r(2)
                            .initLoraWeights(LoraInit.RANDOM)
                            .targetModules("01Linear")
                            .build());
            Path dir = PeftAdapters.save(peft, tmp.resolve("good"));
            byte[] config = Files.readAllBytes(dir.resolve(PeftAdapters.CONFIG_FILE));
            byte[] weights = Files.readAllBytes(dir.resolve(PeftAdapters.WEIGHTS_FILE));

            Parameter a = peft.adaptedModules()
                    .get("01Linear")
                    .adapters()
                    .get("default")
                    .parameters()
                    .get("lora_A.weight");
            float[] good = a.getArray().toFloatArray();
            a.getArray().set(new NDIndex("0, 0"), Float.NaN);
            String msg = assertThrows(IllegalStateException.class, () -> PeftAdapters.save(peft, dir))
                    .getMessage();
            assertTrue(msg.contains("NaN") && msg.contains("lora_A.weight"), msg);
            assertArrayEquals(config, Files.readAllBytes(dir.resolve(PeftAdapters.CONFIG_FILE)));
            assertArrayEquals(weights, Files.readAllBytes(dir.resolve(PeftAdapters.WEIGHTS_FILE)));
            a.getArray()
                    .set(new NDIndex("..."), manager.create(good, a.getArray().getShape()));

            for (String name : new String[] {"../../escape", "/abs", "a\\b", "x:y", ""}) {
                assertThrows(
                        IllegalArgumentException.class,
                        () -> peft.addAdapter(
                                name,
                                LoraConfig.builder().targetModules("01Linear").build()),
                        name);
                assertThrows(IllegalArgumentException.class, () -> PeftAdapters.load(peft, dir, name), name);
            }

            peft.unload();
            msg = assertThrows(IllegalStateException.class, () -> PeftAdapters.save(peft, dir))
                    .getMessage();
            assertTrue(msg.contains("no tensors"), msg);
            assertArrayEquals(weights, Files.readAllBytes(dir.resolve(PeftAdapters.WEIGHTS_FILE)));
        }
    }

    @Test
    void aMergeThatWouldOverflowIsRefusedAndLeavesTheWeightsBitIdentical() {
        try (NDManager manager = NDManager.newBaseManager()) {
            SequentialBlock net = TestModels.mlp(manager, 4);
            Parameter w = net.getChildren().get("01Linear").getParameters().get("weight");
            w.getArray().set(new NDIndex("0, 0"), Float.MAX_VALUE * 0.99f);
            float[] before = w.getArray().toFloatArray();
            AdaptedModel peft = AdaptedModel.inject(
                    net, LoraConfig.builder().r(1).targetModules("01Linear").build());
            Map<String, Parameter> p = peft.adaptedModules()
                    .get("01Linear")
                    .adapters()
                    .get("default")
                    .parameters();
            // ΔW[0, 0] = scaling · B[0]·A[0] = 8 · 3.2e18 · 3.2e18 ≈ 8.2e37: finite, but W + ΔW overflows
            p.get("lora_A.weight").getArray().set(new NDIndex("..."), 3.2e18f);
            p.get("lora_B.weight").getArray().set(new NDIndex("..."), 3.2e18f);
            String msg = assertThrows(IllegalStateException.class, peft::merge).getMessage();
            assertTrue(msg.contains("overflows"), msg);
            assertArrayEquals(before, w.getArray().toFloatArray());
            assertFalse(peft.isMerged());
        }
    }

    @Test
    void unmergeRemovesWhatWasMergedEvenIfTheAdapterChangedSince() {
        try (NDManager manager = NDManager.newBaseManager()) {
            SequentialBlock net = TestModels.mlp(manager, 4);
            Parameter w = net.getChildren().get("01Linear").getParameters().get("weight");
            float[] before = w.getArray().toFloatArray();
            AdaptedModel peft = AdaptedModel.inject(
                    net,
                    LoraConfig.builder()
                            .r(2)
                            .initLoraWeights(LoraInit.RANDOM)
                            .targetModules("01Linear")
                            .build());
            NDArray b = peft.adaptedModules()
                    .get("01Linear")
                    .adapters()
                    .get("default")
                    .parameters()
                    .get("lora_B.weight")
                    .getArray();
            b.set(new NDIndex("..."), 0.5f);
            peft.merge();
            b.set(new NDIndex("..."), -3f); // an optimizer step while merged
            peft.unmerge();
            assertArrayEquals(before, w.getArray().toFloatArray(), 1e-6f);
            assertEquals(new Shape(8, 4), w.getArray().getShape());
        }
    }

    @Test
    void loadsAHeadAdapterOnAnotherThread() throws Exception {
        HfSequenceClassifier block = PeftGoldenTest.base().block();
        NDArray expected = PeftGoldenTest.golden.get("logits_lora");
        AdaptedModel peft = TestThreads.onNewThread(() -> PeftAdapters.load(block, Fixtures.dir("peft/lora")));
        assertEquals(1, peft.adapters().size());
        float d = PeftGoldenTest.maxDiff(expected, PeftGoldenTest.logits(block));
        assertTrue(d <= 1e-4, "logits differ by " + d);
    }

    @Test
    void loadInferAndSaveFromFourThreads() throws Exception {
        HfSequenceClassifier block =
                TestThreads.onNewThread(() -> PeftGoldenTest.base().block());
        AdaptedModel peft = TestThreads.onNewThread(() -> PeftAdapters.load(block, Fixtures.dir("peft/lora")));
        NDArray expected = PeftGoldenTest.golden.get("logits_lora");
        Path shared = tmp.resolve("shared");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Float>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int id = t;
                results.add(pool.submit(() -> {
                    float worst = 0;
                    for (int round = 0; round < 4; round++) {
                        worst = Math.max(worst, PeftGoldenTest.maxDiff(expected, PeftGoldenTest.logits(block)));
                        Path own = PeftAdapters.save(peft, "default", tmp.resolve("t" + id + "-" + round));
                        PeftAdapters.save(peft, "default", shared);
                        PeftAdapters.load(peft, own, "t" + id + "r" + round); // inactive: outputs unchanged
                    }
                    return worst;
                }));
            }
            for (Future<Float> f : results) {
                float worst = f.get(120, TimeUnit.SECONDS);
                assertTrue(worst <= 1e-4, "logits off by " + worst);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1 + 4 * 4, peft.adapters().size());
        assertTrue(PeftGoldenTest.maxDiff(expected, PeftGoldenTest.logits(block)) <= 1e-4);
        HfSequenceClassifier fresh = PeftGoldenTest.base().block();
        PeftAdapters.load(fresh, shared);
        assertTrue(PeftGoldenTest.maxDiff(expected, PeftGoldenTest.logits(fresh)) <= 1e-4, "the shared folder");
    }

    @Test
    void anAdapterThatDoesNotFitOneModuleLeavesEveryModuleAsItWas() {
        try (NDManager manager = NDManager.newBaseManager()) {
            SequentialBlock net = TestModels.mlp(manager, 4);
            LoraConfig config = LoraConfig.builder()
                    .r(2)
                    .targetModules("01Linear", "03Linear")
                    .build();
            AdaptedModel peft = AdaptedModel.inject(net, config);
            // built for the first module only: fits 01Linear [8, 4], not 03Linear [3, 8]
            dev.delora.core.LinearAdapter first =
                    peft.adaptedModules().get("01Linear").adapters().get("default");
            Map<String, dev.delora.core.LinearAdapter> wrong = new java.util.LinkedHashMap<>();
            wrong.put(
                    "01Linear",
                    config.create(
                            "01Linear",
                            net.getChildren()
                                    .get("01Linear")
                                    .getParameters()
                                    .get("weight")
                                    .getArray(),
                            manager));
            wrong.put(
                    "03Linear",
                    config.create(
                            "01Linear",
                            net.getChildren()
                                    .get("01Linear")
                                    .getParameters()
                                    .get("weight")
                                    .getArray(),
                            manager));
            assertThrows(IllegalArgumentException.class, () -> peft.addAdapter("second", config, wrong));
            assertEquals(
                    java.util.List.of("default"),
                    java.util.List.copyOf(peft.adapters().keySet()));
            assertEquals(
                    java.util.Set.of("default"),
                    peft.adaptedModules().get("01Linear").adapters().keySet());
            assertEquals(
                    java.util.Set.of("default"),
                    peft.adaptedModules().get("03Linear").adapters().keySet());
            assertEquals(first, peft.adaptedModules().get("01Linear").adapters().get("default"));
        }
    }
}
