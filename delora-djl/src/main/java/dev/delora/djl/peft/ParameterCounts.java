package dev.delora.djl.peft;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import dev.delora.djl.tree.BlockTree;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Parameter counts of an adapted model, like PEFT's {@code get_nb_trainable_parameters}.
 *
 * @param trainable the number of scalars that receive gradients
 * @param total the number of scalars in all parameters (adapter buffers such as DeLoRA's norms are not parameters)
 * @param perModule trainable scalars per adapted module or module to save, by dotted path
 */
public record ParameterCounts(long trainable, long total, Map<String, Long> perModule) {

    /** Copies the map. */
    public ParameterCounts {
        perModule = Map.copyOf(perModule);
    }

    /**
     * Returns the trainable share in percent.
     *
     * @return 100·trainable/total
     */
    public double percent() {
        return total == 0 ? 0 : 100.0 * trainable / total;
    }

    /**
     * Formats the summary exactly as PEFT's {@code print_trainable_parameters}.
     *
     * @return e.g. {@code trainable params: 887,042 || all params: 125,534,212 || trainable%: 0.7066}
     */
    @Override
    public String toString() {
        return String.format(
                Locale.ROOT,
                "trainable params: %,d || all params: %,d || trainable%%: %.4f",
                trainable,
                total,
                percent());
    }

    /**
     * Counts a model's trainable and total parameter scalars (PEFT's {@code get_nb_trainable_parameters}).
     *
     * @param model the adapted model
     * @return the counts, with a per-module breakdown of trainable scalars
     */
    public static ParameterCounts of(AdaptedModel model) {
        return of(model.block(), model.adaptedModules().keySet());
    }

    /**
     * Counts the scalars of one adapter's parameters over all modules (buffers such as DeLoRA's norms excluded).
     *
     * @param model the adapted model
     * @param adapterName the adapter name
     * @return the count
     * @throws IllegalArgumentException if there is no such adapter
     */
    public static long ofAdapter(AdaptedModel model, String adapterName) {
        if (!model.adapters().containsKey(adapterName)) {
            throw new IllegalArgumentException("No adapter named '" + adapterName + "'; adapters: "
                    + model.adapters().keySet());
        }
        return model.adaptedModules().values().stream()
                .map(m -> m.adapters().get(adapterName))
                .filter(a -> a != null)
                .mapToLong(LoraConversion::size)
                .sum();
    }

    /**
     * Counts a block tree's parameters; trainable ones are attributed to the adapted module they belong to.
     *
     * @param root the root block
     * @param adaptedModules the paths of adapted modules
     * @return the counts
     */
    public static ParameterCounts of(Block root, Set<String> adaptedModules) {
        long total = 0;
        long trainable = 0;
        Map<String, Long> perModule = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : BlockTree.parameters(root).entrySet()) {
            Parameter p = e.getValue();
            long n = p.isInitialized() ? p.getArray().size() : 0;
            total += n;
            if (p.requiresGradient()) {
                trainable += n;
                String key = e.getKey();
                String module = adaptedModules.stream()
                        .filter(m -> key.startsWith(m + "."))
                        .findFirst()
                        .orElse(key.substring(0, Math.max(0, key.lastIndexOf('.'))));
                perModule.merge(module, n, Long::sum);
            }
        }
        return new ParameterCounts(trainable, total, perModule);
    }
}
