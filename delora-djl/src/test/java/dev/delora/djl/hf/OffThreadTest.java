package dev.delora.djl.hf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import dev.delora.core.AdapterConfig;
import dev.delora.core.delora.DeloraConfig;
import dev.delora.core.delora.DeloraInit;
import dev.delora.core.dora.DoraConfig;
import dev.delora.core.lora.LoraConfig;
import dev.delora.core.lora.LoraInit;
import dev.delora.core.loraxs.LoraXsConfig;
import dev.delora.core.sora.SoraConfig;
import dev.delora.djl.fixtures.TestThreads;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.djl.persist.PeftAdapters;
import dev.delora.djl.train.AdapterTrainer;
import dev.delora.djl.train.TrainerSettings;
import dev.delora.fixtures.Fixtures;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every entry point on a thread that did not start the engine (where PyTorch records gradients by default): building
 * models from checkpoints, injecting each method, training a step, merging, saving and loading.
 */
class OffThreadTest {

    @TempDir
    Path tmp;

    @Test
    void everyEntryPointWorksOnAFreshThread() throws Exception {
        try (NDManager manager = NDManager.newBaseManager()) {
            HfModels.Loaded<HfSequenceClassifier> loaded = TestThreads.onNewThread(
                    () -> HfModels.sequenceClassifier(Fixtures.dir("hf/tiny-bert"), manager, null));
            HfSequenceClassifier block = loaded.block();
            NDList inputs = new NDList(
                    manager.create(new long[][] {{2, 7, 8, 3}, {2, 9, 3, 0}}),
                    manager.create(new long[][] {{1, 1, 1, 1}, {1, 1, 1, 0}}));
            for (AdapterConfig config : List.of(
                    DeloraConfig.builder()
                            .r(2)
                            .init(DeloraInit.PAPER)
                            .targetModules("query", "value")
                            .build(),
                    LoraXsConfig.builder().r(2).targetModules("query").build(),
                    SoraConfig.builder().r(2).targetModules("value").build(),
                    new DoraConfig(LoraConfig.builder()
                            .r(2)
                            .initLoraWeights(LoraInit.RANDOM)
                            .targetModules("query", "value")
                            .build()))) {
                String what = config.peftType();
                NDArray base = forward(block, manager, inputs);
                AdaptedModel peft = TestThreads.onNewThread(() -> AdaptedModel.inject(block, config));
                TestThreads.onNewThread(() -> {
                    try (AdapterTrainer<Integer> trainer = AdapterTrainer.forAdapter(
                            peft,
                            (out, y) -> out.head().sum(),
                            TrainerSettings.builder()
                                    .progress(false)
                                    .learningRate(0.1)
                                    .warmupRatio(0)
                                    .build())) {
                        // two steps: a graph built outside the collector would be walked twice
                        return trainer.fit(
                                List.of(0, 1),
                                (m, i) -> new AdapterTrainer.Batch(
                                        inputs, m.zeros(new ai.djl.ndarray.types.Shape(2)), 2));
                    }
                });
                NDArray trained = forward(block, manager, inputs);
                assertTrue(trained.sub(base).abs().max().getFloat() > 0, what + ": training changed nothing");
                Path dir = TestThreads.onNewThread(() -> PeftAdapters.save(peft, tmp.resolve(what)));
                TestThreads.onNewThread(() -> {
                    peft.merge();
                    return null;
                });
                assertTrue(
                        forward(block, manager, inputs).sub(trained).abs().max().getFloat() < 1e-4, what);
                TestThreads.onNewThread(peft::unload);
                assertEquals(
                        0f,
                        forward(block, manager, inputs).sub(base).abs().max().getFloat(),
                        1e-5f,
                        what);
                AdaptedModel back = TestThreads.onNewThread(() -> PeftAdapters.load(block, dir));
                assertTrue(
                        forward(block, manager, inputs).sub(trained).abs().max().getFloat() < 1e-5, what);
                back.unload();
            }
        }
    }

    private static NDArray forward(HfSequenceClassifier block, NDManager manager, NDList inputs) {
        return block.forward(new ParameterStore(manager, false), inputs, false).head();
    }
}
