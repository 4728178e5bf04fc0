package dev.delora.djl.peft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.delora.djl.hf.HfConfig;
import dev.delora.djl.hf.HfModels;
import dev.delora.djl.hf.HfSequenceClassifier;
import dev.delora.djl.io.Safetensors;
import dev.delora.djl.io.SafetensorsCheckpoint;
import dev.delora.djl.persist.PeftAdapters;
import dev.delora.djl.tree.BlockTree;
import dev.delora.fixtures.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A training step through the whole encoder gives PEFT's loss and PEFT's gradient for every trainable tensor
 * (adapter factors, DeLoRA's λ, the classification head), golden values from {@code parity/peft_gradients.py}. This is
 * what the per-layer managers of the encoder must not break: they close the Java handles of forward intermediates
 * before backward runs.
 */
class EncoderGradientParityTest {

    private static final float[] LABELS = {2, 0};

    @ParameterizedTest
    @ValueSource(strings = {"lora", "delora"})
    void trainingStepGradientsMatchPeft(String kind) throws Exception {
        try (NDManager manager = NDManager.newBaseManager()) {
            Map<String, NDArray> golden = Safetensors.load(manager, Fixtures.path("grads/peft_grads.safetensors"));
            Map<String, NDArray> inputs = Safetensors.load(manager, Fixtures.path("peft/golden.safetensors"));
            HfSequenceClassifier block = withoutDropout(Fixtures.dir("peft/base"), manager);
            PeftAdapters.load(block, Fixtures.dir("peft/" + kind), AdaptedModel.DEFAULT_ADAPTER, true);
            Map<String, Parameter> params = BlockTree.parameters(block);

            Map<String, Float> worst = new TreeMap<>();
            try (NDManager step = manager.newSubManager();
                    GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDList in = new NDList(
                        inputs.get("input_ids").duplicate(),
                        inputs.get("attention_mask").duplicate());
                in.attach(step);
                NDArray logits =
                        block.forward(new ParameterStore(step, false), in, true).head();
                // one-hot labels as a libtorch-owned copy: autograd keeps the other factor of a product
                NDArray oneHot = step.create(LABELS)
                        .toType(DataType.INT64, false)
                        .oneHot(3)
                        .toType(DataType.FLOAT32, false)
                        .duplicate();
                NDArray loss = logits.logSoftmax(-1)
                        .mul(oneHot)
                        .sum(new int[] {1})
                        .neg()
                        .mean();
                float expectedLoss = golden.get(kind + "/loss").getFloat(0);
                assertEquals(expectedLoss, loss.getFloat(), 1e-5 * Math.max(1, Math.abs(expectedLoss)), "loss");
                gc.backward(loss);

                int compared = 0;
                for (Map.Entry<String, NDArray> e : golden.entrySet()) {
                    if (!e.getKey().startsWith(kind + "/") || e.getKey().endsWith("/loss")) {
                        continue;
                    }
                    String name = e.getKey().substring(kind.length() + 1);
                    Parameter p = params.get(name);
                    assertNotNull(p, "no parameter " + name + " in " + params.keySet());
                    assertTrue(p.requiresGradient(), name + " is frozen");
                    NDArray expected = e.getValue();
                    NDArray actual = p.getArray().getGradient();
                    assertEquals(expected.getShape(), actual.getShape(), name);
                    float scale = Math.max(1e-3f, expected.abs().max().getFloat());
                    worst.put(name, actual.sub(expected).abs().max().getFloat() / scale);
                    compared++;
                }
                assertEquals(
                        params.values().stream()
                                .filter(Parameter::requiresGradient)
                                .count(),
                        compared,
                        "every trainable tensor has a golden gradient");
            }
            worst.forEach((name, rel) -> assertTrue(rel < 1e-4f, name + ": max |Δgrad| / max |grad| = " + rel));
        }
    }

    /** The fixture's base with every dropout at 0, so a training-mode forward is deterministic. */
    private static HfSequenceClassifier withoutDropout(Path folder, NDManager manager) throws Exception {
        JsonObject json = JsonParser.parseString(Files.readString(folder.resolve("config.json")))
                .getAsJsonObject();
        json.addProperty("hidden_dropout_prob", 0.0);
        json.addProperty("attention_probs_dropout_prob", 0.0);
        HfConfig cfg = HfConfig.fromJson(json);
        HfSequenceClassifier block = new HfSequenceClassifier(cfg);
        try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(folder)) {
            HfModels.initializeAndLoad(block, cfg, HfModels.modelName(cfg, true), ckpt, manager);
        }
        return block;
    }
}
