package dev.delora.djl.persist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Parameter;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.core.lora.LoraConfig;
import dev.delora.core.method.AdapterMethod;
import dev.delora.core.method.AdapterMethods;
import dev.delora.core.method.ConfigFields;
import dev.delora.djl.hf.HfSequenceClassifier;
import dev.delora.djl.peft.AdaptedLinear;
import dev.delora.djl.peft.AdaptedModel;
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
}
