package dev.delora.core;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.delora.core.target.TargetSelector;
import dev.delora.core.target.TargetSpec;
import java.util.Map;

/**
 * The configuration of one adapter method, immutable and validated on construction.
 *
 * <p>Field names follow Hugging Face PEFT's config of the same method, so {@code adapter_config.json} maps one to one.
 * Each method lives in its own package ({@code lora}, {@code delora}, …) with its config and its {@link LinearAdapter}.
 */
public interface AdapterConfig {

    /**
     * Returns the PEFT type written in {@code adapter_config.json} (e.g. {@code "LORA"}); one of
     * {@code AdapterMethod.peftTypes()} of its method.
     *
     * @return the PEFT type name
     */
    String peftType();

    /**
     * Returns the same config with other targets (e.g. with {@code modules_to_save} entries a model lacks dropped).
     *
     * @param targets the new targeting fields
     * @return the new config, validated
     */
    AdapterConfig withTargets(TargetSpec targets);

    /**
     * Returns the dropout probability on the adapter's input ({@code lora_dropout}, DeLoRA's {@code module_dropout});
     * an exact plain-LoRA form of the adapter keeps it, since it acts on the input in both forms.
     *
     * @return the probability in [0, 1)
     */
    float adapterDropout();

    /**
     * Returns the default rank.
     *
     * @return the rank r
     */
    int r();

    /**
     * Returns per-module ranks by regex ({@code rank_pattern}); the first key matching the end of a path wins.
     *
     * @return the ordered pattern map
     */
    Map<String, Integer> rankPattern();

    /**
     * Returns the rank for a module after {@code rank_pattern}.
     *
     * @param modulePath the dotted module path
     * @return the rank
     */
    default int rankFor(String modulePath) {
        return TargetSelector.resolve(rankPattern(), modulePath, r());
    }

    /**
     * Returns which modules get adapters and which are trained in full.
     *
     * @return the target specification
     */
    TargetSpec targets();

    /**
     * Creates the adapter for one targeted {@code Linear} and initialises its parameters.
     *
     * @param modulePath the module's dotted path (resolves rank/alpha/lambda patterns)
     * @param weight the frozen base weight {@code W} of shape {@code [out, in]}
     * @param manager the manager that will own the adapter's arrays (the model's)
     * @return the initialised adapter
     */
    LinearAdapter create(String modulePath, NDArray weight, NDManager manager);
}
