package dev.delora.djl.peft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.core.delora.DeloraAdapter;
import dev.delora.core.delora.DeloraConfig;
import dev.delora.core.delora.DeloraInit;
import dev.delora.core.lora.LoraConfig;
import dev.delora.djl.tree.BlockTree;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A few optimizer steps through DJL's own Trainer touch only adapters and modules_to_save, and learn. */
class AdapterTrainingTest {

    @Test
    void loraTrainsOnlyAdapterAndHead() {
        train(LoraConfig.builder()
                .r(4)
                .loraAlpha(8)
                .targetModules("01Linear")
                .modulesToSave("03Linear")
                .build());
    }

    @Test
    void deloraPaperModeTrainsAndKeepsFrozenCopies() {
        train(DeloraConfig.builder()
                .r(4)
                .deloraLambda(2)
                .init(DeloraInit.PAPER)
                .targetModules("01Linear")
                .modulesToSave("03Linear")
                .build());
    }

    private void train(AdapterConfig config) {
        Engine.getInstance().setRandomSeed(42);
        try (Model model = Model.newInstance("toy");
                NDManager data = NDManager.newBaseManager()) {
            SequentialBlock mlp = TestModels.mlp(model.getNDManager(), 6);
            model.setBlock(mlp);
            // a learnable target: the same network with a low-rank change of its first layer
            NDArray x = data.randomNormal(new Shape(64, 6));
            NDArray w1 = BlockTree.parameters(mlp).get("01Linear.weight").getArray();
            NDArray shift = data.randomNormal(new Shape(8, 1))
                    .matMul(data.randomNormal(new Shape(1, 6)))
                    .mul(0.5f);
            w1.addi(shift);
            NDArray y = TestModels.forward(mlp, data, x).duplicate();
            w1.subi(shift);

            AdaptedModel peft = AdaptedModel.inject(mlp, config);
            Map<String, float[]> before = TestModels.snapshot(mlp);
            LinearAdapter adapter =
                    peft.adaptedModules().get("01Linear").adapters().get("default");
            Map<String, NDArray> buffersBefore = adapter.buffers();
            List<float[]> buffers0 =
                    buffersBefore.values().stream().map(NDArray::toFloatArray).toList();

            DefaultTrainingConfig cfg = new DefaultTrainingConfig(Loss.l2Loss())
                    .optOptimizer(Optimizer.adam()
                            .optLearningRateTracker(Tracker.fixed(0.02f))
                            .build());
            float first = Float.NaN;
            float last = Float.NaN;
            try (Trainer trainer = model.newTrainer(cfg)) {
                peft.applyTrainability(); // harmless here; required after newTrainer on a loaded model
                for (int step = 0; step < 60; step++) {
                    try (GradientCollector gc = trainer.newGradientCollector()) {
                        NDArray pred = trainer.forward(new NDList(x)).singletonOrThrow();
                        NDArray loss = trainer.getLoss().evaluate(new NDList(y), new NDList(pred));
                        gc.backward(loss);
                        last = loss.getFloat();
                        if (step == 0) {
                            first = last;
                        }
                    }
                    trainer.step();
                }
            }
            assertTrue(last < 0.5f * first, "loss must drop: " + first + " -> " + last);

            Map<String, float[]> after = TestModels.snapshot(mlp);
            for (Map.Entry<String, float[]> e : before.entrySet()) {
                String key = e.getKey();
                boolean trainable = key.startsWith("03Linear.") || key.contains(".default");
                boolean frozenLambdaAtStep0 = key.startsWith("01Linear.delora_lambda"); // ∂L/∂λ = 0 only at step 0
                if (trainable) {
                    if (!frozenLambdaAtStep0) {
                        assertFalse(java.util.Arrays.equals(e.getValue(), after.get(key)), key + " must train");
                    }
                } else {
                    assertArrayEquals(e.getValue(), after.get(key), key + " must stay bit-identical");
                }
            }
            List<float[]> buffers1 = adapter.buffers().values().stream()
                    .map(NDArray::toFloatArray)
                    .toList();
            for (int i = 0; i < buffers0.size(); i++) {
                assertArrayEquals(
                        buffers0.get(i), buffers1.get(i), "adapter buffers (w_norm, frozen C/D) must not move");
            }
            if (adapter instanceof DeloraAdapter d && d.hasFrozenCopies()) {
                NDArray a = adapter.parameters().get(DeloraAdapter.A).getArray();
                NDArray c = adapter.buffers().get(DeloraAdapter.C);
                assertTrue(a.sub(c).abs().max().getFloat() > 1e-4, "A moved away from its frozen copy C");
            }
        }
    }
}
