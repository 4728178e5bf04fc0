package dev.delora.djl.hf.decoder;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import dev.delora.djl.io.Safetensors;
import dev.delora.fixtures.Fixtures;
import java.lang.reflect.Field;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Forwards and generation leave nothing in the model's manager, hand the caller only their results, and keep one
 * cache, mask and position per generation rather than one per step.
 */
class GenerationMemoryTest {

    static int resources(NDManager manager) {
        try {
            Field f = BaseNDManager.class.getDeclaredField("resources");
            f.setAccessible(true);
            return ((Map<?, ?>) f.get(manager)).size();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void generationKeepsMemoryFlat() throws Exception {
        try (NDManager model = NDManager.newBaseManager();
                NDManager data = NDManager.newBaseManager()) {
            CausalLm lm = DecoderModels.causalLm(Fixtures.dir("decoders/tiny-llama"), model)
                    .block();
            Map<String, NDArray> golden = Safetensors.load(data, Fixtures.path("decoders/golden.safetensors"));
            NDArray ids = golden.get("tiny-llama/input_ids");
            NDArray mask = golden.get("tiny-llama/attention_mask");
            int modelBefore = resources(model);
            int callerBefore = resources(data);

            Map<Integer, Integer> generationArrays = new HashMap<>();
            GenerationHook hook = new GenerationHook() {
                @Override
                public NDArray select(int step, NDArray lastLogits, NDArray chosen) {
                    // the step's manager is a child of the generation's
                    generationArrays.put(step, resources(chosen.getManager().getParentManager()));
                    return chosen;
                }
            };
            NDArray tokens = lm.generateGreedy(ids, mask, 12, hook, false).tokens();
            assertEquals(12, tokens.getShape().get(1));
            // per step only the chosen token stays (the cache, mask and position are replaced)
            assertEquals(8, generationArrays.get(11) - generationArrays.get(3), generationArrays.toString());
            assertEquals(modelBefore, resources(model), "generation leaks into the model's manager");
            assertEquals(callerBefore + 1, resources(data), "generation returns one array to the caller");

            try (NDManager step = data.newSubManager()) {
                NDList in = new NDList(ids.duplicate(), mask.duplicate());
                in.attach(step);
                lm.forward(new ParameterStore(step, false), in, false);
            }
            assertEquals(modelBefore, resources(model), "a forward leaks into the model's manager");
        }
    }

    @Test
    void samplingWithEosKeepsMemoryFlat() throws Exception {
        try (NDManager model = NDManager.newBaseManager();
                NDManager data = NDManager.newBaseManager()) {
            CausalLm lm = DecoderModels.causalLm(Fixtures.dir("decoders/tiny-llama"), model)
                    .block();
            Map<String, NDArray> golden = Safetensors.load(data, Fixtures.path("decoders/golden.safetensors"));
            NDArray ids = golden.get("tiny-llama/input_ids");
            NDArray mask = golden.get("tiny-llama/attention_mask");
            int modelBefore = resources(model);
            int callerBefore = resources(data);
            Map<Integer, Integer> generationArrays = new HashMap<>();
            GenerationHook hook = new GenerationHook() {
                @Override
                public NDArray select(int step, NDArray lastLogits, NDArray chosen) {
                    generationArrays.put(step, resources(chosen.getManager().getParentManager()));
                    return chosen;
                }
            };
            // an eos id that is never sampled keeps all 12 steps while exercising the padding path
            GenerationSettings s = GenerationSettings.builder()
                    .maxNewTokens(12)
                    .doSample(true)
                    .temperature(0.8f)
                    .topK(20)
                    .topP(0.9f)
                    .eosTokenIds(java.util.List.of(96))
                    .padTokenId(0)
                    .seed(1L)
                    .build();
            Generated g = GreedySearch.run(lm, ids, mask, 12, s, hook, false);
            assertEquals(12, g.tokens().getShape().get(1));
            assertEquals(8, generationArrays.get(11) - generationArrays.get(3), generationArrays.toString());
            assertEquals(modelBefore, resources(model), "sampling leaks into the model's manager");
            assertEquals(callerBefore + 1, resources(data), "sampling returns one array to the caller");
            lm.generate(ids, mask, s).tokens().close();
            assertEquals(modelBefore, resources(model), "generate leaks into the model's manager");
            assertEquals(callerBefore + 1, resources(data), "generate leaves nothing but its result");
        }
    }
}
