package dev.delora.djl.hf.decoder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import dev.delora.djl.io.Safetensors;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.djl.persist.PeftAdapters;
import dev.delora.djl.tree.BlockTree;
import dev.delora.fixtures.Fixtures;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * PEFT {@code CAUSAL_LM} adapter folders (LoRA on q/v, DeLoRA on q/v/up) load into the tiny Llama and give PEFT's
 * logits, and one training step gives PEFT's loss and the gradient of every trainable tensor (transformers'
 * causal-LM loss with a prompt mask of -100 labels).
 */
class DecoderPeftParityTest {

    private static NDManager manager;
    private static Map<String, NDArray> golden;

    @BeforeAll
    static void setUp() throws Exception {
        manager = NDManager.newBaseManager();
        golden = Safetensors.load(manager, Fixtures.path("decoders/golden.safetensors"));
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    private static CausalLm withAdapter(String kind, NDManager m, boolean trainable) throws Exception {
        CausalLm lm =
                DecoderModels.causalLm(Fixtures.dir("decoders/tiny-llama"), m).block();
        AdaptedModel peft = PeftAdapters.load(lm, Fixtures.dir("decoders/peft-" + kind), "default", trainable);
        assertEquals(kind.equals("lora") ? 4 : 6, peft.adaptedModules().size(), kind + " adapted modules");
        return lm;
    }

    @ParameterizedTest
    @ValueSource(strings = {"lora", "delora"})
    void adapterFolderGivesPeftLogits(String kind) throws Exception {
        try (NDManager m = manager.newSubManager()) {
            CausalLm lm = withAdapter(kind, m, false);
            NDList in = new NDList(golden.get("tiny-llama/input_ids"), golden.get("tiny-llama/attention_mask"));
            NDArray logits = lm.forward(new ParameterStore(m, false), in, false).head();
            NDArray expected = golden.get("peft-" + kind + "/logits");
            float d = expected.sub(logits).abs().max().getFloat();
            System.out.printf("peft-%s logits: max |diff| %.3g%n", kind, d);
            assertTrue(d <= 1e-4f, kind + " logits: max |diff| " + d);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"lora", "delora"})
    void trainingStepGradientsMatchPeft(String kind) throws Exception {
        try (NDManager m = manager.newSubManager()) {
            CausalLm lm = withAdapter(kind, m, true);
            Map<String, Parameter> params = BlockTree.parameters(lm);
            Map<String, Float> worst = new TreeMap<>();
            try (NDManager step = m.newSubManager();
                    GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDList in = new NDList(
                        golden.get("tiny-llama/input_ids").duplicate(),
                        golden.get("tiny-llama/attention_mask").duplicate());
                in.attach(step);
                NDArray labels = golden.get("peft-" + kind + "/labels").duplicate();
                labels.attach(step);
                NDArray logits =
                        lm.forward(new ParameterStore(step, false), in, true).head();
                NDArray loss = CausalLmLoss.compute(logits, labels);
                float expectedLoss = golden.get("peft-" + kind + "/loss").getFloat(0);
                System.out.printf("peft-%s loss %.7f vs %.7f%n", kind, loss.getFloat(), expectedLoss);
                assertEquals(expectedLoss, loss.getFloat(), 1e-5 * Math.max(1, Math.abs(expectedLoss)), "loss");
                gc.backward(loss);

                String prefix = "peft-" + kind + "/grad/";
                int compared = 0;
                for (Map.Entry<String, NDArray> e : golden.entrySet()) {
                    if (!e.getKey().startsWith(prefix)) {
                        continue;
                    }
                    String name = e.getKey().substring(prefix.length());
                    Parameter p = params.get(name);
                    assertNotNull(p, "no parameter " + name);
                    assertTrue(p.requiresGradient(), name + " is frozen");
                    NDArray expected = e.getValue();
                    NDArray actual = p.getArray().getGradient();
                    assertEquals(expected.getShape(), actual.getShape(), name);
                    float scale = Math.max(1e-3f, expected.abs().max().getFloat());
                    worst.put(name, actual.sub(expected).abs().max().getFloat() / scale);
                    compared++;
                }
                long trainable = params.values().stream()
                        .filter(Parameter::requiresGradient)
                        .count();
                assertEquals(trainable, compared, "every trainable tensor has a golden gradient");
            }
            float max = worst.values().stream().max(Float::compare).orElseThrow();
            System.out.printf("peft-%s gradients: max relative |diff| %.3g over %d tensors%n", kind, max, worst.size());
            worst.forEach((name, rel) -> assertTrue(rel < 1e-5f, name + ": max |Δgrad| / max |grad| = " + rel));
        }
    }
}
