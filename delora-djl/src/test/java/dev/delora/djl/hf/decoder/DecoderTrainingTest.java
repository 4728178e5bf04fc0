package dev.delora.djl.hf.decoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import com.google.gson.JsonParser;
import dev.delora.core.lora.LoraConfig;
import dev.delora.djl.io.Safetensors;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.djl.persist.PeftAdapters;
import dev.delora.djl.train.AdapterTrainer;
import dev.delora.djl.train.TrainerSettings;
import dev.delora.djl.tree.BlockTree;
import dev.delora.fixtures.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LoRA on {@code q_proj}/{@code v_proj} of the tiny Llama trains through {@code AdapterTrainer} with the causal-LM
 * loss (only the adapter moves), and saves as a PEFT {@code CAUSAL_LM} folder that loads back with the same logits.
 */
class DecoderTrainingTest {

    @Test
    void loraTrainsThroughAdapterTrainerAndRoundTrips(@TempDir Path tmp) throws Exception {
        try (NDManager m = NDManager.newBaseManager()) {
            Map<String, NDArray> golden = Safetensors.load(m, Fixtures.path("decoders/golden.safetensors"));
            NDArray ids = golden.get("tiny-llama/input_ids");
            NDArray mask = golden.get("tiny-llama/attention_mask");
            NDArray labels = golden.get("labels");
            CausalLm lm = DecoderModels.causalLm(Fixtures.dir("decoders/tiny-llama"), m)
                    .block();
            float[] baseQ = BlockTree.parameters(lm)
                    .get("model.layers.0.self_attn.q_proj.weight")
                    .getArray()
                    .toFloatArray();
            AdaptedModel peft = AdaptedModel.inject(
                    lm,
                    LoraConfig.builder()
                            .r(4)
                            .loraAlpha(8)
                            .targetModules("q_proj", "v_proj")
                            .build());
            assertEquals(4, peft.adaptedModules().size());
            TrainerSettings settings = TrainerSettings.builder()
                    .epochs(15)
                    .learningRate(2e-2)
                    .warmupRatio(0)
                    .progress(false)
                    .build();
            AdapterTrainer.Result result;
            try (AdapterTrainer<Integer> trainer =
                    AdapterTrainer.forAdapter(peft, (out, y) -> CausalLmLoss.compute(out.head(), y), settings)) {
                result = trainer.fit(List.of(0), (step, spec) -> {
                    NDList in = new NDList(ids.duplicate(), mask.duplicate());
                    in.attach(step);
                    NDArray y = labels.duplicate();
                    y.attach(step);
                    return new AdapterTrainer.Batch(in, y, 2);
                });
            }
            List<Double> losses = result.stepLosses();
            assertEquals(15, losses.size());
            assertTrue(
                    losses.get(losses.size() - 1) < 0.7 * losses.get(0),
                    "the loss must drop: " + losses.get(0) + " -> " + losses.get(losses.size() - 1));
            assertTrue(losses.get(0) > Collections.min(losses));
            assertArrayEquals(
                    baseQ,
                    BlockTree.parameters(lm)
                            .get("model.layers.0.self_attn.q_proj.weight")
                            .getArray()
                            .toFloatArray(),
                    "the base weight is frozen");

            NDArray trained = lm.forward(new ParameterStore(m, false), new NDList(ids, mask), false)
                    .head();
            Path dir = tmp.resolve("adapter");
            PeftAdapters.save(peft, dir);
            String taskType = JsonParser.parseString(Files.readString(dir.resolve("adapter_config.json")))
                    .getAsJsonObject()
                    .get("task_type")
                    .getAsString();
            assertEquals("CAUSAL_LM", taskType);

            CausalLm fresh = DecoderModels.causalLm(Fixtures.dir("decoders/tiny-llama"), m)
                    .block();
            PeftAdapters.load(fresh, dir);
            NDArray reloaded = fresh.forward(new ParameterStore(m, false), new NDList(ids, mask), false)
                    .head();
            assertEquals(0f, trained.sub(reloaded).abs().max().getFloat(), 1e-6f);
        }
    }
}
