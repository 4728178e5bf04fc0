package dev.delora.djl.hf.decoder;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.core.delora.DeloraConfig;
import dev.delora.core.lora.LoraConfig;
import dev.delora.djl.io.Safetensors;
import dev.delora.djl.peft.AdaptedLinear;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.djl.persist.PeftAdapters;
import dev.delora.fixtures.Fixtures;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Writes causal-LM folders for the Python cross-check {@code src-test-fixtures/parity/check_java_export.py}; runs
 * only with {@code -Dparity.out=DIR}:
 *
 * <pre>
 * mvn -B -ntp -q -pl delora-djl test -Dtest=DecoderParityExportTest -Dparity.out=/tmp/java-decoders
 * </pre>
 *
 * <p>On {@code decoders/tiny-llama} with random adapter values: {@code lora_merged/} ({@link DecoderExport} after
 * merge-and-unload of LoRA r=4 on every projection), {@code lora/} (PEFT CAUSAL_LM LoRA r=4 α=8 on q,v) and
 * {@code delora/} (PEFT CAUSAL_LM DeLoRA r=4 on q,v,up), each with {@code java_logits.safetensors} (logits
 * [N, T, vocab], input_ids, attention_mask: the fixture's left-padded tiny-llama inputs).
 */
@EnabledIfSystemProperty(named = "parity.out", matches = ".+")
class DecoderParityExportTest {

    private static void randomise(AdaptedModel peft, NDManager m) {
        for (AdaptedLinear module : peft.adaptedModules().values()) {
            LinearAdapter a = module.adapters().get(peft.activeAdapter());
            for (Map.Entry<String, Parameter> e : a.parameters().entrySet()) {
                NDArray v = e.getValue().getArray();
                float shift = e.getKey().contains("lambda") ? 12f : 0f;
                v.set(
                        new NDIndex(":"),
                        m.randomNormal(0f, 0.3f, v.getShape(), v.getDataType()).add(shift));
            }
        }
    }

    private static void export(NDManager m, Map<String, NDArray> golden, Path dir, AdapterConfig config, boolean merge)
            throws Exception {
        DecoderModels.Loaded loaded = DecoderModels.causalLm(Fixtures.dir("decoders/tiny-llama"), m);
        CausalLm lm = loaded.block();
        AdaptedModel peft = AdaptedModel.inject(lm, config);
        randomise(peft, m);
        if (merge) {
            DecoderExport.save((CausalLm) peft.mergeAndUnload(), loaded.config(), loaded.generation(), null, dir);
        } else {
            PeftAdapters.save(
                    peft, "default", dir, PeftAdapters.Metadata.infer(lm).withBaseModel("tiny-llama"));
        }
        NDArray ids = golden.get("tiny-llama/input_ids");
        NDArray mask = golden.get("tiny-llama/attention_mask");
        NDArray logits = lm.forward(new ParameterStore(m, false), new NDList(ids, mask), false)
                .head();
        Map<String, NDArray> out = new LinkedHashMap<>();
        out.put("logits", logits);
        out.put("input_ids", ids);
        out.put("attention_mask", mask);
        Safetensors.write(dir.resolve("java_logits.safetensors"), out, Map.of());
    }

    @Test
    void writeFoldersForCheckJavaExport() throws Exception {
        Engine.getInstance().setRandomSeed(2025);
        Path root = Paths.get(System.getProperty("parity.out"));
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> golden = Safetensors.load(m, Fixtures.path("decoders/golden.safetensors"));
            export(
                    m,
                    golden,
                    root.resolve("lora_merged"),
                    LoraConfig.builder()
                            .r(4)
                            .loraAlpha(8)
                            .targetModules("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
                            .build(),
                    true);
            export(
                    m,
                    golden,
                    root.resolve("lora"),
                    LoraConfig.builder()
                            .r(4)
                            .loraAlpha(8)
                            .targetModules("q_proj", "v_proj")
                            .build(),
                    false);
            export(
                    m,
                    golden,
                    root.resolve("delora"),
                    DeloraConfig.builder()
                            .r(4)
                            .deloraLambda(12)
                            .targetModules("q_proj", "v_proj", "up_proj")
                            .build(),
                    false);
        }
        assertTrue(root.resolve("lora_merged").resolve("config.json").toFile().isFile());
    }
}
