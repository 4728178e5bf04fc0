package dev.delora.examples.glue;

import dev.delora.core.AdapterConfig;
import dev.delora.core.delora.DeloraConfig;
import dev.delora.core.delora.DeloraInit;
import dev.delora.core.lora.LoraConfig;
import dev.delora.core.loraxs.LoraXsConfig;
import dev.delora.core.sora.SoraConfig;
import java.util.List;
import java.util.Objects;

/**
 * Every knob of one GLUE fine-tuning run.
 *
 * @param method the adapter method
 * @param epochs training epochs
 * @param batchSize training batch size
 * @param lr learning rate of the adapter and the classification head
 * @param lambdaLr DeLoRA: learning rate of λ (the paper's "scaling learning rate")
 * @param weightDecay AdamW weight decay (0 for biases and LayerNorm)
 * @param warmupRatio share of steps with linear warmup before the linear decay
 * @param maxGradNorm global-norm clip, or NaN for none
 * @param r the rank
 * @param alpha LoRA-family α (LoRA, LoRA-XS, SoRA)
 * @param deloraLambda DeLoRA: the initial λ
 * @param deloraInit DeLoRA: the initialisation
 * @param dropout adapter-input dropout
 * @param maxLength tokenizer truncation length
 * @param targets the target modules
 * @param sparseLambda SoRA: weight η of the gate L1 term
 * @param sparseLambda2 SoRA: proximal threshold ξ
 */
public record Hyperparameters(
        Method method,
        int epochs,
        int batchSize,
        double lr,
        double lambdaLr,
        double weightDecay,
        double warmupRatio,
        double maxGradNorm,
        int r,
        float alpha,
        float deloraLambda,
        DeloraInit deloraInit,
        float dropout,
        int maxLength,
        List<String> targets,
        float sparseLambda,
        float sparseLambda2) {

    /** Validates the values that no config downstream checks. */
    public Hyperparameters {
        Objects.requireNonNull(method, "method");
        if (epochs < 1 || batchSize < 1 || maxLength < 8) {
            throw new IllegalArgumentException("epochs and batch size must be >= 1 and max length >= 8, got "
                    + epochs + ", " + batchSize + ", " + maxLength);
        }
        if (!(lr > 0) || !(lambdaLr > 0)) {
            throw new IllegalArgumentException("learning rates must be > 0, got lr " + lr + ", lambda lr " + lambdaLr);
        }
        targets = List.copyOf(targets);
    }

    /**
     * Builds the adapter config; the classification head is always trained and saved ({@code modules_to_save}).
     *
     * @param headModules the model's head modules (e.g. {@code classifier})
     * @return the config
     */
    public AdapterConfig adapterConfig(List<String> headModules) {
        String[] t = targets.toArray(String[]::new);
        String[] head = headModules.toArray(String[]::new);
        return switch (method) {
            case LORA -> LoraConfig.builder().r(r).loraAlpha(alpha).loraDropout(dropout).targetModules(t)
                    .modulesToSave(head).build();
            case DELORA -> DeloraConfig.builder().r(r).deloraLambda(deloraLambda).moduleDropout(dropout)
                    .init(deloraInit).targetModules(t).modulesToSave(head).build();
            case LORAXS -> LoraXsConfig.builder().r(r).loraAlpha(alpha).loraDropout(dropout).targetModules(t)
                    .modulesToSave(head).build();
            case SORA -> SoraConfig.builder().r(r).loraAlpha(alpha).loraDropout(dropout).sparseLambda(sparseLambda)
                    .sparseLambda2(sparseLambda2).targetModules(t).modulesToSave(head).build();
        };
    }
}
