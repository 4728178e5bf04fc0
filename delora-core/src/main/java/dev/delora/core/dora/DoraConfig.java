package dev.delora.core.dora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.core.lora.LoraAdapter;
import dev.delora.core.lora.LoraConfig;
import dev.delora.core.target.TargetSpec;
import java.util.Map;
import java.util.Objects;

/**
 * DoRA (weight-decomposed LoRA, Liu et al. 2024) as Hugging Face PEFT defines it: {@code LoraConfig(use_dora=True)}.
 * Every field is LoRA's (rank, α, rsLoRA, dropout, init, patterns, targets); the adapter adds a trainable magnitude
 * per output row. In {@code adapter_config.json} it is {@code peft_type: "LORA"} with {@code use_dora: true}.
 *
 * <p>Build one from a LoRA config: {@code new DoraConfig(LoraConfig.builder().r(8).targets(...).build())}.
 *
 * @param lora the LoRA fields
 */
public record DoraConfig(LoraConfig lora) implements AdapterConfig {

    /** Checks the LoRA fields are there. */
    public DoraConfig {
        Objects.requireNonNull(lora, "lora");
    }

    @Override
    public String peftType() {
        return "LORA";
    }

    @Override
    public DoraConfig withTargets(TargetSpec targets) {
        return new DoraConfig(lora.withTargets(targets));
    }

    @Override
    public float adapterDropout() {
        return lora.loraDropout();
    }

    @Override
    public int r() {
        return lora.r();
    }

    @Override
    public Map<String, Integer> rankPattern() {
        return lora.rankPattern();
    }

    @Override
    public TargetSpec targets() {
        return lora.targets();
    }

    /**
     * Creates the LoRA factors with LoRA's init and sets the magnitude to the row norms of {@code W + s·B·A} (of
     * {@code W} itself with the default init, where B = 0), so the adapted module starts as the base one.
     */
    @Override
    public LinearAdapter create(String modulePath, NDArray weight, NDManager manager) {
        LoraAdapter factors = (LoraAdapter) lora.create(modulePath, weight, manager);
        return DoraAdapter.withInitialMagnitude(factors, weight, lora.loraDropout(), manager);
    }
}
