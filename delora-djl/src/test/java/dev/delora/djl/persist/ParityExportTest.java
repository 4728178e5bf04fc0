package dev.delora.djl.persist;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.core.delora.DeloraConfig;
import dev.delora.core.delora.DeloraInit;
import dev.delora.core.dora.DoraConfig;
import dev.delora.core.lora.LoraConfig;
import dev.delora.core.loraxs.LoraXsConfig;
import dev.delora.core.sora.SoraAdapter;
import dev.delora.core.sora.SoraConfig;
import dev.delora.djl.hf.HfExport;
import dev.delora.djl.hf.HfSequenceClassifier;
import dev.delora.djl.io.Safetensors;
import dev.delora.djl.peft.AdaptedLinear;
import dev.delora.djl.peft.AdaptedModel;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Writes folders for the Python cross-check {@code src-test-fixtures/parity/check_java_export.py}; runs only with
 * {@code -Dparity.out=DIR}:
 *
 * <pre>
 * mvn -B -ntp -q -pl delora-djl -am test -Dtest=ParityExportTest -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Dparity.out=/tmp/java-peft
 * </pre>
 *
 * <p>Each folder gets the Java logits on {@code peft/golden.safetensors}'s inputs in {@code java_logits.safetensors}.
 * Adapters are created here (random trained-like values on the fixture base), not copied from PEFT's folders:
 * {@code lora/}, {@code delora/} (PEFT's DELORA type), {@code delora_paper_as_lora/}, {@code loraxs_as_lora/},
 * {@code sora_as_lora/}, {@code sora_layer1_as_lora/} (exact plain-LoRA exports, the last with
 * {@code layers_to_transform}/{@code layers_pattern}), and {@code lora_merged/}, {@code delora_merged/} (HfExport after
 * merge-and-unload).
 */
@EnabledIfSystemProperty(named = "parity.out", matches = ".+")
class ParityExportTest {

    @BeforeAll
    static void setUp() throws Exception {
        PeftGoldenTest.setUp();
    }

    @AfterAll
    static void tearDown() {
        PeftGoldenTest.tearDown();
    }

    private static void randomise(AdaptedModel peft) {
        for (AdaptedLinear m : peft.adaptedModules().values()) {
            LinearAdapter a = m.adapters().get(peft.activeAdapter());
            for (Map.Entry<String, Parameter> e : a.parameters().entrySet()) {
                NDArray v = e.getValue().getArray();
                NDArray r = PeftGoldenTest.manager.randomNormal(0f, 0.3f, v.getShape(), v.getDataType());
                // λ near 12, DoRA's magnitude near the row norms of W (≈ 1 here)
                float shift = e.getKey().contains("lambda") ? 12f : e.getKey().contains("magnitude") ? 1f : 0f;
                v.set(new NDIndex(":"), r.add(shift));
            }
            if (a instanceof SoraAdapter s) {
                s.gate().getArray().set(new NDIndex("0, 0"), 0f); // one pruned rank per module
            }
        }
        // a trained head, so the saved modules_to_save matter
        peft.block().getParameters().forEach(p -> {
            if (p.getKey().contains("classifier")) {
                p.getValue()
                        .getArray()
                        .addi(PeftGoldenTest.manager.randomNormal(
                                0f,
                                0.2f,
                                p.getValue().getArray().getShape(),
                                p.getValue().getArray().getDataType()));
            }
        });
    }

    private static void writeLogits(Block block, Path dir) throws Exception {
        Map<String, NDArray> out = new LinkedHashMap<>();
        out.put("logits", PeftGoldenTest.logits(block));
        out.put("input_ids", PeftGoldenTest.golden.get("input_ids"));
        out.put("attention_mask", PeftGoldenTest.golden.get("attention_mask"));
        Safetensors.write(dir.resolve("java_logits.safetensors"), out, Map.of());
    }

    private static Path export(Path root, String name, AdapterConfig config, boolean asLora, boolean merged)
            throws Exception {
        HfSequenceClassifier block = PeftGoldenTest.base().block();
        AdaptedModel peft = AdaptedModel.inject(block, config);
        randomise(peft);
        Path dir = root.resolve(name);
        PeftAdapters.Metadata meta = PeftAdapters.Metadata.infer(block).withBaseModel("base");
        if (merged) {
            HfExport.save(peft.mergeAndUnload(), PeftGoldenTest.base().config(), null, dir);
        } else if (asLora) {
            PeftAdapters.saveAsLora(peft, "default", dir, meta);
        } else {
            PeftAdapters.save(peft, "default", dir, meta);
        }
        writeLogits(block, dir);
        return dir;
    }

    @Test
    void writeFoldersForCheckJavaExport() throws Exception {
        Engine.getInstance().setRandomSeed(2024);
        Path root = Paths.get(System.getProperty("parity.out"));
        String[] q = {"query", "value"};
        export(
                root,
                "lora",
                LoraConfig.builder()
                        .r(4)
                        .loraAlpha(8)
                        .targetModules(q)
                        .modulesToSave("classifier")
                        .build(),
                false,
                false);
        export(
                root,
                "delora",
                DeloraConfig.builder()
                        .r(4)
                        .deloraLambda(12)
                        .targetModules("query", "value", "intermediate.dense")
                        .modulesToSave("classifier")
                        .build(),
                false,
                false);
        export(
                root,
                "delora_paper_as_lora",
                DeloraConfig.builder()
                        .r(3)
                        .init(DeloraInit.PAPER)
                        .targetModules(q)
                        .modulesToSave("classifier")
                        .build(),
                true,
                false);
        export(
                root,
                "loraxs_as_lora",
                LoraXsConfig.builder()
                        .r(4)
                        .targetModules("query", "value", "output.dense")
                        .modulesToSave("classifier")
                        .build(),
                true,
                false);
        export(
                root,
                "sora_as_lora",
                SoraConfig.builder()
                        .r(4)
                        .targetModules("query", "key", "value")
                        .modulesToSave("classifier")
                        .build(),
                true,
                false);
        // layer filters survive the conversion: PEFT must adapt exactly layer 1
        export(
                root,
                "sora_layer1_as_lora",
                SoraConfig.builder()
                        .r(4)
                        .targetModules("query", "value", "output.dense")
                        .layersToTransform(1)
                        .layersPattern("layer")
                        .modulesToSave("classifier")
                        .build(),
                true,
                false);
        export(
                root,
                "lora_merged",
                LoraConfig.builder()
                        .r(4)
                        .targetModules(q)
                        .modulesToSave("classifier")
                        .build(),
                false,
                true);
        export(
                root,
                "delora_merged",
                DeloraConfig.builder()
                        .r(4)
                        .init(DeloraInit.PAPER)
                        .targetModules(q)
                        .modulesToSave("classifier")
                        .build(),
                false,
                true);
        DoraConfig dora = new DoraConfig(LoraConfig.builder()
                .r(4)
                .loraAlpha(8)
                .useRslora(true)
                .loraDropout(0.1f)
                .targetModules("query", "value", "intermediate.dense")
                .modulesToSave("classifier")
                .build());
        export(root, "dora", dora, false, false);
        export(root, "dora_merged", dora, false, true);
        assertTrue(
                root.resolve("lora").resolve(PeftAdapters.CONFIG_FILE).toFile().isFile());
    }
}
