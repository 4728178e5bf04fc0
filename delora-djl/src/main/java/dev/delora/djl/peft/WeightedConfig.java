package dev.delora.djl.peft;

import dev.delora.core.AdapterConfig;
import dev.delora.core.lora.LoraConfig;
import dev.delora.core.lora.LoraInit;
import dev.delora.core.target.ModuleMatcher;
import dev.delora.core.target.TargetSpec;
import dev.delora.djl.peft.WeightedAdapters.Combination;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The checks and the new config of {@link WeightedAdapters} (PEFT's {@code _check_add_weighted_adapter}). */
final class WeightedConfig {

    private WeightedConfig() {}

    static void check(Map<String, AdapterConfig> configs, List<String> adapters, List<Double> weights, String newName) {
        if (adapters.isEmpty() || adapters.size() != weights.size()) {
            throw new IllegalArgumentException("add_weighted_adapter needs one weight per adapter and at least one "
                    + "adapter; got adapters " + adapters + " and weights " + weights);
        }
        for (String a : adapters) {
            if (!configs.containsKey(a)) {
                throw new IllegalArgumentException("Adapter " + a + " does not exist; adapters: " + configs.keySet());
            }
        }
        if (new LinkedHashSet<>(adapters).size() != adapters.size()) {
            throw new IllegalArgumentException("Adapters to combine must be distinct, got " + adapters);
        }
        for (Double w : weights) {
            if (w == null || !Double.isFinite(w)) {
                throw new IllegalArgumentException("Weights must be finite numbers, got " + weights);
            }
        }
        AdapterNames.checkNew(newName, configs.keySet());
    }

    static void checkDensity(Combination how, Double density) {
        if (!how.usesDensity()) {
            return;
        }
        if (density == null) {
            throw new IllegalArgumentException("combination_type " + how.peftName() + " needs density, the fraction "
                    + "in [0, 1] of each task tensor's values to keep (PEFT fails without it)");
        }
        if (how.isRandom() && density == 0) {
            throw new IllegalArgumentException("combination_type " + how.peftName() + " needs density in (0, 1]: "
                    + "DARE divides the kept values by it (PEFT gives NaN for 0); got 0");
        }
    }

    /** PEFT's rank of an adapter: {@code max(r, *rank_pattern.values())}; other methods: their LoRA form's. */
    static int rank(AdapterConfig config, LoraForm form) {
        if (config instanceof LoraConfig lc) {
            return Math.max(
                    lc.r(),
                    lc.rankPattern().values().stream()
                            .mapToInt(Integer::intValue)
                            .max()
                            .orElse(0));
        }
        return form.config().r();
    }

    static ModuleMatcher unionTargets(Map<String, AdapterConfig> configs, List<String> adapters) {
        List<ModuleMatcher> matchers = adapters.stream()
                .map(a -> configs.get(a).targets().targetModules())
                .toList();
        long regexes = matchers.stream().filter(m -> m.regex() != null).count();
        if (regexes != 0 && regexes != matchers.size()) {
            throw new IllegalArgumentException("all adapter configs should follow the same target modules type. "
                    + "Combining adapters with `target_modules` type being a mix of list/set and string is not "
                    + "supported; " + adapters + " target " + matchers);
        }
        if (regexes != 0) {
            return ModuleMatcher.regex(String.join(
                    "|", matchers.stream().map(m -> "(" + m.regex() + ")").toList()));
        }
        Set<String> names = new LinkedHashSet<>();
        matchers.forEach(m -> names.addAll(m.names()));
        return ModuleMatcher.names(List.copyOf(names));
    }

    /** The first adapter's config with the new rank as r and α, no patterns, the union of the targets. */
    static LoraConfig newConfig(AdapterConfig first, LoraForm form, ModuleMatcher targets, int rank) {
        TargetSpec t = first.targets();
        TargetSpec spec = new TargetSpec(
                targets, t.excludeModules(), t.layersToTransform(), t.layersPattern(), t.modulesToSave());
        LoraConfig base = first instanceof LoraConfig lc ? lc : form.config();
        boolean rslora = base.useRslora();
        LoraInit init = base.initLoraWeights();
        return new LoraConfig(rank, rank, base.loraDropout(), rslora, init, spec, Map.of(), Map.of());
    }
}
