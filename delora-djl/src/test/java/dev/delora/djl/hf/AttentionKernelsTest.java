package dev.delora.djl.hf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import dev.delora.djl.hf.decoder.CausalLmLoss;
import dev.delora.djl.hf.decoder.DecoderModels;
import dev.delora.djl.io.Safetensors;
import dev.delora.djl.persist.PeftAdapters;
import dev.delora.djl.tree.BlockTree;
import dev.delora.fixtures.Fixtures;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The fused {@code scaled_dot_product_attention} kernel against the eager operations, in float32: outputs and the
 * gradients of q, k, v within 1e-5 for the mask shapes the encoder and decoder pass (padding, causal with fully
 * masked left-padding rows, grouped-query attention, one cached decoding step); and whole models, an encoder with a
 * LoRA adapter and a decoder LM with one, giving the same logits and adapter gradients under both implementations.
 */
class AttentionKernelsTest {

    private static final float TOL = 1e-5f;

    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "encoder padding, 2, 4, 4, 9, 9, key",
        "causal left padding, 2, 4, 4, 7, 7, causal",
        "grouped-query, 2, 4, 2, 7, 7, causal",
        "cached step, 2, 4, 2, 1, 7, key",
        "long rows, 3, 2, 2, 130, 130, key"
    })
    void fusedKernelMatchesEagerOutputsAndGradients(String name, int b, int h, int hkv, int t, int s, String mask)
            throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            assertTrue(AttentionKernels.fusedAvailable(m), "the bundled kernel loads on the PyTorch engine");
            Engine.getInstance().setRandomSeed(7);
            NDArray q = m.randomNormal(new Shape(b, h, t, 16));
            NDArray k = m.randomNormal(new Shape(b, hkv, s, 16));
            NDArray v = m.randomNormal(new Shape(b, hkv, s, 16));
            NDArray additive = mask(m, b, t, s, mask);
            // a query row whose every key is masked (left padding) has no defined attention: both give its mean of
            // v, but their gradients through it differ, and no loss reads such a row (it is padding), so weight 0
            NDArray attended =
                    additive.max(new int[] {3}).gt(-1e30f).broadcast(b, 1, t).transpose(0, 2, 1);
            NDArray weights = m.randomNormal(new Shape(b, t, h * 16)).mul(attended.toType(q.getDataType(), false));
            float scale = 0.25f;
            Map<String, NDArray> fused =
                    run(m, q, k, v, w -> AttentionKernels.attend(w[0], w[1], w[2], additive, 0f, scale), weights);
            Map<String, NDArray> eager =
                    run(m, q, k, v, w -> AttentionKernels.eager(w[0], w[1], w[2], additive, 0f, scale), weights);
            for (String key : fused.keySet()) {
                NDArray e = eager.get(key);
                float diff = fused.get(key).sub(e).abs().max().getFloat();
                float ref = Math.max(1f, e.abs().max().getFloat());
                assertTrue(diff <= TOL * ref, name + " " + key + ": max |fused - eager| = " + diff);
            }
        }
    }

    /** Output and the gradients of q, k, v of sum(out · weights). */
    private static Map<String, NDArray> run(
            NDManager m, NDArray q0, NDArray k0, NDArray v0, Function<NDArray[], NDArray> attention, NDArray w) {
        NDArray[] in = {q0.duplicate(), k0.duplicate(), v0.duplicate()};
        for (NDArray a : in) {
            a.setRequiresGradient(true);
        }
        Map<String, NDArray> out = new LinkedHashMap<>();
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray ctx = attention.apply(in);
            out.put("output", ctx.stopGradient());
            gc.backward(ctx.mul(w).sum());
        }
        out.put("grad q", in[0].getGradient().duplicate());
        out.put("grad k", in[1].getGradient().duplicate());
        out.put("grad v", in[2].getGradient().duplicate());
        return out;
    }

    /** Padding on the keys (B,1,1,S), or causal with the first rows of batch 0 left-padded (B,1,T,S). */
    private static NDArray mask(NDManager m, int b, int t, int s, String kind) {
        float min = -Float.MAX_VALUE;
        if ("key".equals(kind)) {
            NDArray mask = m.zeros(new Shape(b, 1, 1, s));
            mask.set(new NDIndex("0, :, :, " + (s - Math.max(1, s / 3)) + ":"), min);
            return mask;
        }
        float[] data = new float[b * t * s];
        for (int row = 0; row < b; row++) {
            int pad = row == 0 ? 2 : 0;
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < s; j++) {
                    boolean visible = j <= i + (s - t) && j >= pad;
                    data[(row * t + i) * s + j] = visible ? 0f : min;
                }
            }
        }
        return m.create(data, new Shape(b, 1, t, s));
    }

    @Test
    void encoderWithLoraGivesTheSameLogitsAndGradientsUnderBothImplementations() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> inputs = Safetensors.load(m, Fixtures.path("peft/golden.safetensors"));
            Block block = HfModels.sequenceClassifier(Fixtures.dir("peft/base"), m, null)
                    .block();
            PeftAdapters.load(block, Fixtures.dir("peft/lora"), "default", true);
            NDList in = new NDList(inputs.get("input_ids"), inputs.get("attention_mask"));
            // eval mode: no dropout, so both runs are deterministic; the graph is recorded all the same
            compareModels(
                    m,
                    block,
                    in,
                    logits -> logits.logSoftmax(-1).get(":, 0").sum().neg());
        }
    }

    @Test
    void decoderWithLoraGivesTheSameLogitsAndGradientsUnderBothImplementations() throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> golden = Safetensors.load(m, Fixtures.path("decoders/golden.safetensors"));
            Block lm = DecoderModels.causalLm(Fixtures.dir("decoders/tiny-llama"), m)
                    .block();
            PeftAdapters.load(lm, Fixtures.dir("decoders/peft-lora"), "default", true);
            NDList in = new NDList(golden.get("tiny-llama/input_ids"), golden.get("tiny-llama/attention_mask"));
            NDArray labels = golden.get("peft-lora/labels");
            compareModels(m, lm, in, logits -> CausalLmLoss.compute(logits, labels));
        }
    }

    private static void compareModels(NDManager m, Block block, NDList in, Function<NDArray, NDArray> loss) {
        Map<String, NDArray> fused = modelRun(m, block, in, loss, null);
        Map<String, NDArray> eager = modelRun(m, block, in, loss, "eager");
        // gradients accumulate across the two backward passes: the eager run's own are the difference
        eager.replaceAll((key, value) -> key.equals("logits") ? value : value.sub(fused.get(key)));
        assertEquals(eager.keySet(), fused.keySet());
        assertTrue(fused.size() > 2, "logits and several adapter gradients: " + fused.keySet());
        for (String key : fused.keySet()) {
            NDArray e = eager.get(key);
            float diff = fused.get(key).sub(e).abs().max().getFloat();
            float ref = Math.max(1e-3f, e.abs().max().getFloat());
            assertTrue(diff <= TOL * ref, key + ": max |sdpa - eager| = " + diff + " (max |eager| " + ref + ")");
        }
    }

    private static Map<String, NDArray> modelRun(
            NDManager m, Block block, NDList in, Function<NDArray, NDArray> loss, String implementation) {
        String before = System.getProperty(AttentionImplementation.PROPERTY);
        if (implementation == null) {
            System.clearProperty(AttentionImplementation.PROPERTY);
        } else {
            System.setProperty(AttentionImplementation.PROPERTY, implementation);
        }
        Map<String, Parameter> params = BlockTree.parameters(block);
        Map<String, NDArray> out = new LinkedHashMap<>();
        try (NDManager step = m.newSubManager();
                GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray logits =
                    block.forward(new ParameterStore(step, false), in, false).head();
            out.put("logits", logits.duplicate());
            out.get("logits").attach(m);
            gc.backward(loss.apply(logits));
        } finally {
            if (before == null) {
                System.clearProperty(AttentionImplementation.PROPERTY);
            } else {
                System.setProperty(AttentionImplementation.PROPERTY, before);
            }
        }
        params.forEach((name, p) -> {
            if (p.requiresGradient()) {
                out.put(name, p.getArray().getGradient().duplicate());
            }
        });
        return out;
    }

    @Test
    void implementationNamesParseAsTransformersWritesThem() {
        assertEquals(AttentionImplementation.SDPA, AttentionImplementation.parse("sdpa"));
        assertEquals(AttentionImplementation.EAGER, AttentionImplementation.parse(" Eager "));
        assertEquals("sdpa", AttentionImplementation.SDPA.configName());
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> AttentionImplementation.parse("flash"));
        assertEquals("delora.attn_implementation: expected sdpa or eager, found 'flash'", e.getMessage());
    }
}
