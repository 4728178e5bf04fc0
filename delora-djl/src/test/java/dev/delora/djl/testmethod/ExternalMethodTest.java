package dev.delora.djl.testmethod;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.SequentialBlock;
import com.google.gson.JsonObject;
import dev.delora.core.method.AdapterMethods;
import dev.delora.core.method.ConfigFields;
import dev.delora.core.target.TargetSpec;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.djl.peft.TestModels;
import dev.delora.djl.persist.AdapterConfigJson;
import dev.delora.djl.persist.PeftAdapters;
import dev.delora.djl.train.AdapterTrainer;
import dev.delora.djl.train.TrainerSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A method defined only in these test sources ({@link OuterMethod}, registered through this module's
 * {@code META-INF/services}) gets injection, training with its own group and loss term, save, load, merge and
 * conversion from the shared machinery, with no change outside its package.
 */
class ExternalMethodTest {

    @TempDir
    Path tmp;

    private static final OuterConfig CONFIG = new OuterConfig(0.5f, 0.01f, TargetSpec.of("01Linear", "03Linear"));

    @Test
    void theRegistryFindsIt() {
        assertTrue(
                AdapterMethods.names().contains("outer"), AdapterMethods.names().toString());
        assertEquals(
                OuterMethod.class,
                AdapterMethods.byPeftType("OUTER_TEST", new ConfigFields(Map.of(), "test"))
                        .getClass());
        assertEquals(OuterMethod.class, AdapterMethods.of(CONFIG).getClass());
        JsonObject json = PeftAdapters.configToJson(CONFIG, new PeftAdapters.Metadata(null, null));
        assertEquals("OUTER_TEST", json.get("peft_type").getAsString());
        assertEquals(CONFIG, AdapterConfigJson.fromJson(json, "test"));
    }

    /** The same 16 rows every step, made on the host so every run sees the same data. */
    private static AdapterTrainer.Batch batch(NDManager m) {
        java.util.Random random = new java.util.Random(1);
        float[] x = new float[16 * 5];
        float[] y = new float[16 * 3];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextGaussian();
        }
        for (int i = 0; i < 16; i++) {
            for (int j = 0; j < 3; j++) {
                y[i * 3 + j] = 0.5f * x[i * 5] + 0.2f; // a rank-1 function of the input
            }
        }
        return new AdapterTrainer.Batch(new NDList(m.create(x, new Shape(16, 5))), m.create(y, new Shape(16, 3)), 16);
    }

    private static NDArray mse(NDList out, NDArray labels) {
        return out.head().sub(labels).square().mean();
    }

    @Test
    void injectTrainSaveLoadMergeConvert() throws Exception {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            manager.getEngine().setRandomSeed(7);
            SequentialBlock net = TestModels.mlp(manager, 5);
            NDArray x = manager.randomNormal(new Shape(4, 5));
            NDArray base = TestModels.forward(net, manager, x);
            AdaptedModel peft = AdaptedModel.inject(net, CONFIG);
            assertEquals(0f, TestModels.maxAbsDiff(base, TestModels.forward(net, manager, x)), "u = 0 at start");

            // the method's own group: at lr 0 its u vectors must not move (decay 0 in that group)
            TrainerSettings frozenU = TrainerSettings.builder()
                    .epochs(3)
                    .progress(false)
                    .learningRate(0.05)
                    .groupLearningRate(OuterMethod.U_GROUP, 0)
                    .build();
            try (AdapterTrainer<Integer> t = AdapterTrainer.forAdapter(peft, ExternalMethodTest::mse, frozenU)) {
                t.fit(List.of(0, 1), (m, i) -> batch(m));
            }
            assertEquals(0f, TestModels.maxAbsDiff(base, TestModels.forward(net, manager, x)));

            assertThrows(
                    IllegalArgumentException.class,
                    () -> AdapterTrainer.forAdapter(
                            peft,
                            ExternalMethodTest::mse,
                            TrainerSettings.builder()
                                    .groupLearningRate("nope", 1e-3)
                                    .build()));

            TrainerSettings settings = TrainerSettings.builder()
                    .epochs(20)
                    .progress(false)
                    .learningRate(0.05)
                    .warmupRatio(0)
                    .build();
            AdapterTrainer.Result result;
            try (AdapterTrainer<Integer> t = AdapterTrainer.forAdapter(peft, ExternalMethodTest::mse, settings)) {
                result = t.fit(List.of(0, 1), (m, i) -> batch(m));
            }
            List<Double> losses = result.stepLosses();
            assertTrue(losses.get(losses.size() - 1) < 0.8 * losses.get(0), losses.toString());
            NDArray trained = TestModels.forward(net, manager, x);
            assertTrue(TestModels.maxAbsDiff(base, trained) > 1e-3f);

            // save → load reproduces the outputs; the file is the method's own format
            Path dir = PeftAdapters.save(peft, tmp.resolve("outer"));
            String json = Files.readString(dir.resolve(PeftAdapters.CONFIG_FILE), StandardCharsets.UTF_8);
            assertTrue(json.contains("\"peft_type\": \"OUTER_TEST\"") && json.contains("\"outer_scale\": 0.5"), json);
            Path asLora = PeftAdapters.saveAsLora(peft, AdaptedModel.DEFAULT_ADAPTER, tmp.resolve("outer-as-lora"));
            peft.unload();
            assertEquals(0f, TestModels.maxAbsDiff(base, TestModels.forward(net, manager, x)));
            AdaptedModel loaded = PeftAdapters.load(net, dir);
            assertEquals(0f, TestModels.maxAbsDiff(trained, TestModels.forward(net, manager, x)));

            // merge and unmerge
            float[] weight = net.getParameters().valueAt(0).getArray().toFloatArray();
            loaded.merge();
            assertTrue(TestModels.maxAbsDiff(trained, TestModels.forward(net, manager, x)) < 1e-5f);
            loaded.unmerge();
            assertArrayEquals(weight, net.getParameters().valueAt(0).getArray().toFloatArray(), 1e-6f);

            // conversion to plain LoRA: same outputs, and the folder save-as-LoRA wrote
            loaded.convertToLora(AdaptedModel.DEFAULT_ADAPTER);
            assertTrue(TestModels.maxAbsDiff(trained, TestModels.forward(net, manager, x)) < 1e-5f);
            Path converted = PeftAdapters.save(loaded, tmp.resolve("outer-converted"));
            for (String f : List.of(PeftAdapters.CONFIG_FILE, PeftAdapters.WEIGHTS_FILE)) {
                assertArrayEquals(Files.readAllBytes(asLora.resolve(f)), Files.readAllBytes(converted.resolve(f)), f);
            }
        }
    }

    @Test
    void anEngineErrorWhileRestoringLeavesTheModelAsItWas() throws Exception {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            SequentialBlock net = TestModels.mlp(manager, 5);
            NDArray x = manager.randomNormal(new Shape(4, 5));
            NDArray base = TestModels.forward(net, manager, x);
            AdaptedModel peft = AdaptedModel.inject(
                    net, new OuterConfig(OuterMethod.FAILING_SCALE, 0f, TargetSpec.of("01Linear", "03Linear")));
            Path dir = PeftAdapters.save(peft, tmp.resolve("failing"));
            peft.unload();
            assertThrows(ai.djl.engine.EngineException.class, () -> PeftAdapters.load(net, dir));
            assertTrue(dev.delora.djl.tree.BlockTree.nodes(net).values().stream()
                    .noneMatch(n -> n.block() instanceof dev.delora.djl.peft.AdaptedLinear));
            assertEquals(0f, TestModels.maxAbsDiff(base, TestModels.forward(net, manager, x)));
            AdaptedModel other = AdaptedModel.inject(net, CONFIG);
            assertThrows(ai.djl.engine.EngineException.class, () -> PeftAdapters.load(other, dir, "second"));
            assertEquals(java.util.Set.of("default"), other.adapters().keySet());
        }
    }
}
