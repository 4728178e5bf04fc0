package dev.delora.djl.testmethod;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.core.target.TargetSpec;
import java.util.Map;

/**
 * A method that exists only in test sources: a rank-1 update {@code ΔW = scale · u vᵀ} with u {@code [out]} and v
 * {@code [in]} trainable. It proves that a method registered from outside the library gets injection, training,
 * persistence, merging and conversion from the shared machinery.
 *
 * @param scale the fixed scale ({@code outer_scale})
 * @param decay the weight of the extra loss term {@code decay · Σv²} ({@code outer_decay})
 * @param targets the targets
 */
public record OuterConfig(float scale, float decay, TargetSpec targets) implements AdapterConfig {

    @Override
    public String peftType() {
        return OuterMethod.PEFT_TYPE;
    }

    @Override
    public int r() {
        return 1;
    }

    @Override
    public Map<String, Integer> rankPattern() {
        return Map.of();
    }

    @Override
    public LinearAdapter create(String modulePath, NDArray weight, NDManager manager) {
        return OuterAdapter.initialise(
                scale, weight.getShape().get(0), weight.getShape().get(1), manager);
    }

    @Override
    public AdapterConfig withTargets(TargetSpec newTargets) {
        return new OuterConfig(scale, decay, newTargets);
    }

    @Override
    public float adapterDropout() {
        return 0;
    }
}
