package dev.delora.djl.peft;

import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.core.LoraFactors;
import dev.delora.core.lora.LoraConfig;
import dev.delora.core.target.TargetSpec;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The exact plain-LoRA form of one adapter of a model ({@link LinearAdapter#toLora()} of every module): the one path
 * behind {@link AdaptedModel#convertToLora} and saving as LoRA. Its config keeps the adapter's targets
 * ({@code target_modules}, {@code exclude_modules}, {@code layers_to_transform}, {@code layers_pattern},
 * {@code modules_to_save}) and input dropout, and gives each module its rank and α in {@code rank_pattern} /
 * {@code alpha_pattern} (keyed by the full module path, α = scaling · rank, as PEFT computes scaling = α/r), with
 * {@code r} = {@code lora_alpha} = the largest rank. The factors belong to this object; close it.
 */
public final class LoraForm implements AutoCloseable {

    private final LoraConfig config;
    private final Map<String, LoraFactors> factors;

    private LoraForm(LoraConfig config, Map<String, LoraFactors> factors) {
        this.config = config;
        this.factors = Collections.unmodifiableMap(factors);
    }

    /**
     * Tells whether an adapter has an exact plain-LoRA form: every one of its modules {@link
     * LinearAdapter#hasLoraForm() has one} (not DoRA, whose merge rescales rows of W).
     *
     * @param model the model
     * @param adapterName the adapter
     * @return true if {@link #of} works for it
     * @throws IllegalArgumentException if there is no such adapter
     */
    public static boolean exists(AdaptedModel model, String adapterName) {
        config(model, adapterName);
        return model.adaptedModules().values().stream()
                .map(m -> m.adapters().get(adapterName))
                .allMatch(a -> a == null || a.hasLoraForm());
    }

    private static AdapterConfig config(AdaptedModel model, String adapterName) {
        AdapterConfig config = model.adapters().get(adapterName);
        if (config == null) {
            throw new IllegalArgumentException("No adapter named '" + adapterName + "'; adapters: "
                    + model.adapters().keySet());
        }
        return config;
    }

    /**
     * Computes the LoRA form of an adapter from its current values, without changing the model.
     *
     * @param model the model
     * @param adapterName the adapter
     * @return the form (close it)
     * @throws IllegalArgumentException if there is no such adapter, or it has no exact plain-LoRA form
     *     ({@link #exists})
     */
    public static LoraForm of(AdaptedModel model, String adapterName) {
        AdapterConfig old = config(model, adapterName);
        if (!exists(model, adapterName)) {
            throw new IllegalArgumentException(
                    "Adapter '" + adapterName + "' (" + old.getClass().getSimpleName()
                            + ") has no exact plain-LoRA form: its merged weight is not W plus a low-rank term. "
                            + "Save it in its own PEFT layout, or merge it and export the model");
        }
        TargetSpec t = old.targets();
        LoraConfig.Builder builder = LoraConfig.builder().targets(t).loraDropout(old.adapterDropout());
        Map<String, LoraFactors> factors = new LinkedHashMap<>();
        int maxRank = 1;
        try {
            for (Map.Entry<String, AdaptedLinear> e : model.adaptedModules().entrySet()) {
                LinearAdapter a = e.getValue().adapters().get(adapterName);
                if (a == null) {
                    continue;
                }
                LoraFactors f = a.toLora();
                factors.put(e.getKey(), f);
                int rank = (int) f.rank();
                maxRank = Math.max(maxRank, rank);
                builder.rankPattern(e.getKey(), rank).alphaPattern(e.getKey(), f.scaling() * rank);
            }
            return new LoraForm(builder.r(maxRank).loraAlpha(maxRank).build(), factors);
        } catch (RuntimeException ex) {
            factors.values().forEach(LoraFactors::close);
            throw ex;
        }
    }

    /**
     * Returns the plain-LoRA config.
     *
     * @return the config
     */
    public LoraConfig config() {
        return config;
    }

    /**
     * Returns each module's factors ({@code ΔW = scaling · B A}; A {@code [k, in]}, B {@code [out, k]}).
     *
     * @return module path to factors, in module order
     */
    public Map<String, LoraFactors> factors() {
        return factors;
    }

    /**
     * Returns each module's rank in this form.
     *
     * @return module path to rank, in module order
     */
    public Map<String, Integer> ranks() {
        Map<String, Integer> out = new LinkedHashMap<>();
        factors.forEach((path, f) -> out.put(path, (int) f.rank()));
        return Collections.unmodifiableMap(out);
    }

    /**
     * Returns the number of scalars of all factors ({@code k·(in + out)} per module).
     *
     * @return the count
     */
    public long parameterCount() {
        return factors.values().stream()
                .mapToLong(f -> f.a().size() + f.b().size())
                .sum();
    }

    /** Frees the factors. */
    @Override
    public void close() {
        factors.values().forEach(LoraFactors::close);
    }
}
