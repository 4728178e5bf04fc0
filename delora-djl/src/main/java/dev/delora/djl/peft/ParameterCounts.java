package dev.delora.djl.peft;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import dev.delora.djl.tree.BlockTree;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Set;
import java.util.Map;

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
        return String.format(Locale.ROOT, "trainable params: %,d || all params: %,d || trainable%%: %.4f",
                trainable, total, percent());
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
