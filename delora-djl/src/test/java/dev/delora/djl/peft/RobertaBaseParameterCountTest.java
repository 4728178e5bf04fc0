package dev.delora.djl.peft;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import dev.delora.core.AdapterConfig;
import dev.delora.core.delora.DeloraConfig;
import dev.delora.core.delora.DeloraInit;
import dev.delora.core.linalg.RandomizedSvd;
import dev.delora.core.lora.LoraConfig;
import dev.delora.core.loraxs.LoraXsConfig;
import dev.delora.core.sora.SoraConfig;
import dev.delora.djl.hf.HfConfig;
import dev.delora.djl.hf.HfModels;
import dev.delora.djl.hf.HfSequenceClassifier;
import org.junit.jupiter.api.Test;

/**
 * Trainable-parameter counts on a RoBERTa-base-shaped classifier (random weights) against the published numbers:
 * LoRA r=8 on q,v = 294,912 and with the head 887,042 (PEFT's print_trainable_parameters), DeLoRA +1 λ per module
 * = 294,936, LoRA-XS = 24·r², RoBERTa-base for sequence classification = 124,647,170 parameters.
 */
class RobertaBaseParameterCountTest {

    private static final long ROBERTA_BASE_SEQ_CLS = 124_647_170L;
    private static final long HEAD = 592_130L;

    @Test
    void countsMatchThePublishedValues() {
        Engine.getInstance().setRandomSeed(0);
        HfConfig base = new HfConfig(
                "roberta", 50265, 768, 12, 12, 3072, "gelu", 0.1f, 0.1f, 514, 1, 0.02f, 1e-5f, 1, null, 2, null);
        try (NDManager manager = NDManager.newBaseManager()) {
            HfSequenceClassifier model = new HfSequenceClassifier(base);
            HfModels.initialize(model, base, manager);
            check(
                    model,
                    LoraConfig.builder().r(8).targetModules("query", "value").build(),
                    294_912L,
                    false);
            check(
                    model,
                    LoraConfig.builder()
                            .r(8)
                            .targetModules("query", "value")
                            .modulesToSave("classifier")
                            .build(),
                    294_912L + HEAD,
                    true);
            check(
                    model,
                    DeloraConfig.builder()
                            .r(8)
                            .init(DeloraInit.PAPER)
                            .targetModules("query", "value")
                            .build(),
                    294_936L,
                    false);
            for (int r : new int[] {4, 25}) {
                // counts do not depend on SVD accuracy: one power iteration keeps the 24 decompositions cheap
                check(
                        model,
                        LoraXsConfig.builder()
                                .r(r)
                                .svd(RandomizedSvd.Options.of(r).withPowerIterations(1))
                                .targetModules("query", "value")
                                .build(),
                        24L * r * r,
                        false);
            }
            check(
                    model,
                    SoraConfig.builder().r(8).targetModules("query", "value").build(),
                    294_912L + 24 * 8,
                    false);
        }
    }

    private static void check(HfSequenceClassifier model, AdapterConfig config, long trainable, boolean withHead) {
        AdaptedModel peft = AdaptedModel.inject(model, config);
        ParameterCounts report = ParameterCounts.of(peft);
        assertEquals(trainable, report.trainable(), config.toString());
        long adapterScalars = withHead ? trainable - HEAD : trainable;
        assertEquals(ROBERTA_BASE_SEQ_CLS + adapterScalars, report.total(), "all params = model + adapter");
        peft.unload();
    }
}
