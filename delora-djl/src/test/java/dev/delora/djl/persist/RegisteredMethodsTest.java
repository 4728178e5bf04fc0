package dev.delora.djl.persist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Parameter;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.core.lora.LoraConfig;
import dev.delora.core.method.AdapterMethod;
import dev.delora.core.method.AdapterMethods;
import dev.delora.core.method.ConfigFields;
import dev.delora.djl.hf.HfSequenceClassifier;
import dev.delora.djl.peft.AdaptedLinear;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.djl.peft.LoraForm;
import dev.delora.djl.peft.UpdateNorms;
import dev.delora.djl.train.UpdateNormLog;
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

/**
 * Every registered method (the built-in ones and the one in these test sources), configured by PEFT field names
 * with layer filters ({@code layers_to_transform}, {@code layers_pattern}): config → adapter_config.json → config is
 * the identity; save → load gives identical logits; convert-to-LoRA then save writes byte for byte the folder that
 * save-as-LoRA writes, and that folder loads back as a plain LoRA with the same logits.
 */
class RegisteredMethodsTest {

    @TempDir
    Path tmp;

    private static NDManager manager;

    @BeforeAll
    static void setUp() throws Exception {
        manager = NDManager.newBaseManager();
        PeftGoldenTest.setUp();
    }

    @AfterAll
    static void tearDown() {
        manager.close();
        PeftGoldenTest.tearDown();
    }

    /** Each method with its defaults, plus the variants whose files differ (DeLoRA's paper init). */
    private static List<Map<String, Object>> variants(AdapterMethod method) {
        List<Map<String, Object>> out = new ArrayList<>();
        out.add(Map.of(
                "r",
                3,
                "target_modules",
                List.of("query", "value", "output.dense"),
                "layers_to_transform",
                List.of(1),
                "layers_pattern",
                List.of("layer"),
                "modules_to_save",
                List.of("classifier")));
        if (method.peftTypes().contains("DELORA_PAPER")) {
            Map<String, Object> paper = new LinkedHashMap<>(out.get(0));
            paper.put("init_weights", "paper");
            out.add(paper);
        }
        return out;
    }

    private static void randomise(AdaptedModel peft) {
        for (AdaptedLinear m : peft.adaptedModules().values()) {
            LinearAdapter a = m.adapters().get(AdaptedModel.DEFAULT_ADAPTER);
            for (Parameter p : a.parameters().values()) {
                NDArray v = p.getArray();
                v.set(
                        new NDIndex(":"),
                        manager.randomNormal(0f, 0.3f, v.getShape(), v.getDataType())
                                .add(v.getShape().size() == 1 ? 5f : 0f)); // a scalar such as λ away from 0
            }
        }
    }

    @Test
    void everyRegisteredMethodRoundTripsAndConvertsExactly() throws Exception {
        assertTrue(AdapterMethods.all().size() >= 5, "built-ins and the test method: " + AdapterMethods.names());
        for (AdapterMethod method : AdapterMethods.all()) {
            for (Map<String, Object> fields : variants(method)) {
                Engine.getInstance().setRandomSeed(3);
                AdapterConfig config = AdapterConfigJson.fromFields(method, new ConfigFields(fields, "test"));
                String what = method.name() + " " + fields;
                assertEquals(
                        config,
                        AdapterConfigJson.fromJson(
                                PeftAdapters.configToJson(config, new PeftAdapters.Metadata("SEQ_CLS", null)), "json"),
                        what + ": config round trip");

                HfSequenceClassifier block = PeftGoldenTest.base().block();
                AdaptedModel peft = AdaptedModel.inject(block, config);
                assertTrue(
                        peft.adaptedModules().keySet().stream().allMatch(p -> p.contains("layer.1.")),
                        what + ": layers_to_transform " + peft.adaptedModules().keySet());
                randomise(peft);
                NDArray before = PeftGoldenTest.logits(block);
                Path own = PeftAdapters.save(peft, tmp.resolve(method.name() + "-" + fields.size() + "-own"));
                if (!LoraForm.exists(peft, AdaptedModel.DEFAULT_ADAPTER)) {
                    // a method without a plain-LoRA form (DoRA) says so instead of writing an approximation
                    Path refused = tmp.resolve(method.name() + "-" + fields.size() + "-as-lora");
                    String msg = assertThrows(
                                    IllegalArgumentException.class,
                                    () -> PeftAdapters.saveAsLora(peft, AdaptedModel.DEFAULT_ADAPTER, refused))
                            .getMessage();
                    assertTrue(msg.contains("no exact plain-LoRA form"), what + ": " + msg);
                    assertFalse(Files.exists(refused), what + ": nothing written");
                    AdaptedModel reloaded =
                            PeftAdapters.load(PeftGoldenTest.base().block(), own);
                    assertEquals(config, reloaded.adapters().get(AdaptedModel.DEFAULT_ADAPTER), what);
                    continue;
                }
                Path asLora = PeftAdapters.saveAsLora(
                        peft,
                        AdaptedModel.DEFAULT_ADAPTER,
                        tmp.resolve(method.name() + "-" + fields.size() + "-as-lora"));

                HfSequenceClassifier again = PeftGoldenTest.base().block();
                AdaptedModel reloaded = PeftAdapters.load(again, own);
                assertEquals(config, reloaded.adapters().get(AdaptedModel.DEFAULT_ADAPTER), what);
                assertTrue(PeftGoldenTest.maxDiff(before, PeftGoldenTest.logits(again)) == 0f, what + ": reloaded");

                reloaded.convertToLora(AdaptedModel.DEFAULT_ADAPTER);
                float d = PeftGoldenTest.maxDiff(before, PeftGoldenTest.logits(again));
                assertTrue(d <= 1e-5f, what + ": converted logits differ by " + d);
                Path converted =
                        PeftAdapters.save(reloaded, tmp.resolve(method.name() + "-" + fields.size() + "-converted"));
                for (String f : List.of(PeftAdapters.CONFIG_FILE, PeftAdapters.WEIGHTS_FILE)) {
                    assertArrayEquals(
                            Files.readAllBytes(asLora.resolve(f)),
                            Files.readAllBytes(converted.resolve(f)),
                            what + ": " + f);
                }
                LoraConfig lora =
                        assertInstanceOf(LoraConfig.class, reloaded.adapters().get("default"));
                assertEquals(
                        config.targets().layersToTransform(), lora.targets().layersToTransform(), what);
                assertEquals(config.targets().layersPattern(), lora.targets().layersPattern(), what);
                assertEquals(config.adapterDropout(), lora.adapterDropout(), what);

                HfSequenceClassifier third = PeftGoldenTest.base().block();
                PeftAdapters.load(third, asLora);
                d = PeftGoldenTest.maxDiff(before, PeftGoldenTest.logits(third));
                assertTrue(d <= 1e-5f, what + ": the save-as-LoRA folder's logits differ by " + d);
            }
        }
    }

    /**
     * {@code ‖W_eff − W‖_F} as {@link UpdateNorms} computes it (from k×k Gram matrices for methods with a LoRA form)
     * equals the dense difference of the merged and the original weights, for every registered method; the log writes
     * it per step with DeLoRA's λ among the scalars.
     */
    @Test
    void updateNormsEqualTheDenseChangeOfTheMergedWeights() throws Exception {
        for (AdapterMethod method : AdapterMethods.all()) {
            Engine.getInstance().setRandomSeed(5);
            AdapterConfig config = AdapterConfigJson.fromFields(
                    method, new ConfigFields(variants(method).get(0), "test"));
            AdaptedModel peft = AdaptedModel.inject(PeftGoldenTest.base().block(), config);
            randomise(peft);
            Map<String, Double> norms = UpdateNorms.of(peft, AdaptedModel.DEFAULT_ADAPTER, p -> true);
            assertEquals(peft.adaptedModules().keySet(), norms.keySet(), method.name());
            Map<String, float[]> before = new LinkedHashMap<>();
            peft.adaptedModules()
                    .forEach((k, m) -> before.put(k, m.weight().getArray().toFloatArray()));
            peft.merge();
            for (Map.Entry<String, AdaptedLinear> e : peft.adaptedModules().entrySet()) {
                float[] w0 = before.get(e.getKey());
                float[] w1 = e.getValue().weight().getArray().toFloatArray();
                double sum = 0;
                for (int i = 0; i < w0.length; i++) {
                    sum += ((double) w1[i] - w0[i]) * ((double) w1[i] - w0[i]);
                }
                double dense = Math.sqrt(sum);
                double fromFactors = norms.get(e.getKey());
                assertTrue(dense > 1e-3, method.name() + " " + e.getKey() + ": the update must show");
                assertEquals(dense, fromFactors, 1e-4 * dense, method.name() + " " + e.getKey());
            }
            peft.unmerge();
            Path log = tmp.resolve(method.name() + "-distance.jsonl");
            try (UpdateNormLog writer = UpdateNormLog.create(peft, AdaptedModel.DEFAULT_ADAPTER, log, 2, p -> true)) {
                writer.record(0);
                writer.afterStep(0, 1); // step 1: not a multiple of 2
                writer.afterStep(1, 1); // step 2
            }
            List<String> lines = Files.readAllLines(log);
            assertEquals(2, lines.size(), method.name() + ": " + lines);
            JsonObject last = JsonParser.parseString(lines.get(1)).getAsJsonObject();
            assertEquals(2, last.get("step").getAsInt());
            assertEquals(UpdateNorms.total(norms), last.get("total").getAsDouble(), 1e-6 * UpdateNorms.total(norms));
            boolean hasLambda = lines.get(1).contains("\"delora_lambda\":");
            assertEquals(method.name().equals("delora"), hasLambda, method.name() + ": " + lines.get(1));
        }
    }
}
