package dev.delora.djl.hf.decoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.ParameterStore;
import dev.delora.djl.io.Safetensors;
import dev.delora.fixtures.Fixtures;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Numerical parity with transformers 4.57 (eager attention, eval mode) on the four tiny decoders of
 * {@code fixtures/decoders} ({@code parity/decoders.py}): logits without and with generate's position ids, the rotary
 * frequencies, greedy generation with the KV cache, and the cache against the uncached forward.
 */
class LlamaParityTest {

    private static final float TOL = 1e-4f;
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

    static float maxDiff(NDArray expected, NDArray actual, String what) {
        assertEquals(expected.getShape(), actual.getShape(), what + " shape");
        float d = expected.sub(actual).abs().max().getFloat();
        System.out.printf("%s: max |diff| %.3g%n", what, d);
        assertTrue(d <= TOL, what + ": max |diff| " + d + " > " + TOL);
        return d;
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama", "tiny-llama-rope-llama3", "tiny-llama-tied", "tiny-qwen2"})
    void logitsMatchTransformers(String name) throws Exception {
        try (NDManager m = manager.newSubManager()) {
            DecoderModels.Loaded loaded = DecoderModels.causalLm(Fixtures.dir("decoders/" + name), m);
            CausalLm lm = loaded.block();
            ParameterStore ps = new ParameterStore(m, false);
            NDArray ids = golden.get(name + "/input_ids");
            NDArray mask = golden.get(name + "/attention_mask");
            DecoderConfig cfg = loaded.config();
            float[] inv = RopeScaling.inverseFrequencies(cfg.ropeScaling(), cfg.headDim(), cfg.ropeTheta());
            assertArrayEquals(golden.get(name + "/inv_freq").toFloatArray(), inv, 1e-7f, name + " inv_freq");

            NDArray logits = lm.forward(ps, new NDList(ids, mask), false).head();
            maxDiff(golden.get(name + "/logits"), logits, name + " logits");
            NDArray withPositions = lm.forward(ps, ids, mask, golden.get(name + "/position_ids"), null, false)
                    .logits();
            maxDiff(golden.get(name + "/logits_positions"), withPositions, name + " logits with position_ids");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"tiny-llama", "tiny-llama-rope-llama3", "tiny-llama-tied", "tiny-qwen2"})
    void greedyGenerationMatchesTransformers(String name) throws Exception {
        try (NDManager m = manager.newSubManager()) {
            CausalLm lm =
                    DecoderModels.causalLm(Fixtures.dir("decoders/" + name), m).block();
            NDArray ids = golden.get(name + "/input_ids");
            NDArray mask = golden.get(name + "/attention_mask");
            Generated g = lm.generateGreedy(ids, mask, 6, GenerationHook.NONE, true);
            assertArrayEquals(
                    golden.get(name + "/greedy_tokens").toLongArray(),
                    g.tokens().toLongArray(),
                    name + " tokens");
            maxDiff(golden.get(name + "/step_logits"), g.stepLogits(), name + " cached step logits");
            maxDiff(golden.get(name + "/step_logits_nocache"), g.stepLogits(), name + " vs uncached golden");
            assertArrayEquals(
                    golden.get(name + "/greedy_tokens").toLongArray(),
                    lm.generateGreedy(ids, mask, 6).toLongArray(),
                    name + " tokens (plain form)");

            // the cache against one uncached forward over prompt + generated tokens, with generate's positions
            NDArray full = NDArrays.concat(new NDList(ids, g.tokens()), 1);
            NDArray fullMask = NDArrays.concat(new NDList(mask, g.tokens().onesLike()), 1);
            NDArray positions = fullMask.cumSum(1).sub(1L);
            positions = NDArrays.where(fullMask.eq(0L), positions.onesLike(), positions);
            NDArray logits = lm.forward(new ParameterStore(m, false), full, fullMask, positions, null, false)
                    .logits();
            NDArray uncached = logits.get(":, 6:12, :");
            maxDiff(uncached, g.stepLogits(), name + " cached vs uncached forward");
            assertEquals(DataType.INT64, g.tokens().getDataType());
        }
    }

    @Test
    void hookReplacesTokensAndStops() throws Exception {
        try (NDManager m = manager.newSubManager()) {
            CausalLm lm = DecoderModels.causalLm(Fixtures.dir("decoders/tiny-llama"), m)
                    .block();
            long[] expected = golden.get("tiny-llama/greedy_tokens").toLongArray();
            // row 1 "ends" after its second token: padding from then on, and generation stops after step 3
            GenerationHook hook = new GenerationHook() {
                @Override
                public NDArray select(int step, NDArray lastLogits, NDArray chosen) {
                    long[] v = chosen.toLongArray();
                    if (step >= 2) {
                        v[1] = 0;
                    }
                    return chosen.getManager().create(v);
                }

                @Override
                public boolean stop(int step, NDArray appended) {
                    return step == 3;
                }
            };
            Generated g = lm.generateGreedy(
                    golden.get("tiny-llama/input_ids"), golden.get("tiny-llama/attention_mask"), 6, hook, false);
            long[] tokens = g.tokens().toLongArray();
            assertEquals(new ai.djl.ndarray.types.Shape(2, 4), g.tokens().getShape());
            assertArrayEquals(
                    new long[] {expected[0], expected[1], expected[2], expected[3], expected[6], expected[7], 0, 0},
                    tokens);
            assertEquals(null, g.stepLogits());
            assertEquals(
                    0,
                    lm.generateGreedy(golden.get("tiny-llama/input_ids"), golden.get("tiny-llama/attention_mask"), 0)
                            .getShape()
                            .get(1));
        }
    }
}
