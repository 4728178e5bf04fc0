package dev.delora.djl.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.SequentialBlock;
import dev.delora.core.sora.SoraAdapter;
import dev.delora.core.sora.SoraConfig;
import dev.delora.core.sora.SoraSchedule;
import dev.delora.core.sora.SparsityScheduler;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.djl.peft.TestModels;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * SoRA's sparsifying rounds, driven by its config alone: after the main schedule, {@code lambda_num − 1} rounds of
 * 15 epochs run with the learning rate at the schedule's end (0, as the reference's reused schedulers), so only the
 * proximal threshold moves the gates. The gates must then equal the reference's three-statement threshold applied
 * once per step with each round's ξ, computed here on the host.
 */
class SoraTrainingTest {

    /** The reference's {@code p[p>ξ]-=ξ; p[p<-ξ]+=ξ; p[|p|<ξ]=0}, in float32 like the device. */
    private static float threshold(float p, float xi) {
        float v = p;
        if (v > xi) {
            v -= xi;
        }
        if (v < -xi) {
            v += xi;
        }
        return Math.abs(v) >= xi ? v : 0f;
    }

    @Test
    void sparsifyingRoundsRaiseTheThresholdWithTheLearningRateAtZero() {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            manager.getEngine().setRandomSeed(5);
            SequentialBlock net = TestModels.mlp(manager, 4);
            float xi0 = 1e-3f;
            float max = 0.05f;
            SoraConfig config = SoraConfig.builder()
                    .r(4)
                    .targetModules("01Linear")
                    .sparseLambda(0.1f)
                    .sparseLambda2(xi0)
                    .lambdaSchedule(SoraSchedule.LINEAR, max, 3)
                    .build();
            AdaptedModel peft = AdaptedModel.inject(net, config);
            NDArray gate = ((SoraAdapter)
                            peft.adaptedModules().get("01Linear").adapters().get("default"))
                    .gate()
                    .getArray();
            float[][] afterMain = new float[1][];
            TrainerSettings settings = TrainerSettings.builder()
                    .epochs(1)
                    .warmupRatio(0)
                    .learningRate(0.01)
                    .progress(false)
                    .build();
            AdapterTrainer.Result result;
            try (AdapterTrainer<Integer> trainer = AdapterTrainer.forAdapter(
                    peft, (out, y) -> out.head().sub(y).square().mean(), settings)) {
                trainer.evaluator(epoch -> {
                    if (epoch == 0) {
                        afterMain[0] = gate.toFloatArray();
                    }
                    return Map.of("accuracy", 0.0);
                });
                result = trainer.fit(
                        List.of(0),
                        (m, i) -> new AdapterTrainer.Batch(
                                new NDList(m.ones(new Shape(2, 4))), m.zeros(new Shape(2, 3)), 2));
            }
            assertEquals(1 + 2 * 15, result.epochs().size(), "main epoch + 2 rounds of 15");
            assertEquals(31, result.steps());

            double[] xis = new SparsityScheduler(SoraSchedule.LINEAR, xi0, max, 3).values();
            float[] expected = afterMain[0].clone();
            for (int round = 1; round <= 2; round++) {
                for (int step = 0; step < 15; step++) {
                    for (int i = 0; i < expected.length; i++) {
                        expected[i] = threshold(expected[i], (float) xis[round]);
                    }
                }
            }
            assertArrayEquals(expected, gate.toFloatArray(), 1e-7f);
            assertFalse(
                    java.util.Arrays.equals(afterMain[0], gate.toFloatArray()), "the rounds must have moved the gates");
        }
    }
}
