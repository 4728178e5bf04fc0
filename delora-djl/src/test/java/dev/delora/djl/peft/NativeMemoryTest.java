package dev.delora.djl.peft;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import dev.delora.core.AdapterConfig;
import dev.delora.core.delora.DeloraConfig;
import dev.delora.core.delora.DeloraInit;
import dev.delora.core.dora.DoraConfig;
import dev.delora.core.lora.LoraConfig;
import dev.delora.core.loraxs.LoraXsConfig;
import dev.delora.core.sora.SoraConfig;
import java.lang.reflect.Field;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Training steps leave nothing behind in the model's manager: the number of arrays it owns is the same after 2 and
 * after 12 steps, and after merging and unmerging, so a per-step (or per-merge) leak of adapter temporaries fails here
 * instead of growing native memory.
 */
class NativeMemoryTest {

    @Test
    void stepsOfEveryMethodLeaveTheModelManagerAlone() {
        List<AdapterConfig> configs = List.of(
                LoraConfig.builder()
                        .r(2)
                        .loraDropout(0.1f)
                        .targetModules("01Linear")
                        .build(),
                DeloraConfig.builder()
                        .r(2)
                        .init(DeloraInit.PAPER)
                        .moduleDropout(0.1f)
                        .targetModules("01Linear")
                        .build(),
                DeloraConfig.builder()
                        .r(2)
                        .init(DeloraInit.ZERO_B)
                        .targetModules("01Linear")
                        .build(),
                LoraXsConfig.builder().r(2).targetModules("01Linear").build(),
                SoraConfig.builder().r(2).targetModules("01Linear").build(),
                new DoraConfig(LoraConfig.builder()
                        .r(2)
                        .loraDropout(0.1f)
                        .targetModules("01Linear")
                        .build()),
                new DoraConfig(
                        LoraConfig.builder().r(2).targetModules("01Linear").build()));
        for (AdapterConfig config : configs) {
            Engine.getInstance().setRandomSeed(0);
            try (NDManager model = NDManager.newBaseManager()) {
                SequentialBlock mlp = TestModels.mlp(model, 6);
                AdaptedModel peft = AdaptedModel.inject(mlp, config);
                int warm = 0;
                for (int step = 0; step < 12; step++) {
                    if (step == 2) {
                        warm = resources(model);
                    }
                    try (NDManager stepManager = NDManager.newBaseManager();
                            GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray x = stepManager.randomNormal(new Shape(4, 6));
                        NDArray y = mlp.forward(new ParameterStore(stepManager, false), new NDList(x), true)
                                .head();
                        gc.backward(y.square().mean());
                    }
                }
                assertEquals(warm, resources(model), config.peftType() + " leaks arrays into the model's manager");
                for (int i = 0; i < 3; i++) {
                    peft.merge();
                    peft.unmerge();
                }
                assertEquals(
                        warm, resources(model), config.peftType() + " merging leaks arrays into the model's manager");
                for (int i = 0; i < 3; i++) {
                    UpdateNorms.of(peft, AdaptedModel.DEFAULT_ADAPTER, p -> true);
                    UpdateNorms.scalars(peft, AdaptedModel.DEFAULT_ADAPTER, p -> true);
                }
                assertEquals(warm, resources(model), config + ": measuring leaks arrays into the model's manager");
            }
        }
    }

    static int resources(NDManager manager) {
        try {
            Field f = ai.djl.ndarray.BaseNDManager.class.getDeclaredField("resources");
            f.setAccessible(true);
            return ((Map<?, ?>) f.get(manager)).size();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }
}
