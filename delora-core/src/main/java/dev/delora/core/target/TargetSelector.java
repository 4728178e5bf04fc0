package dev.delora.core.target;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Decides which module paths get an adapter, exactly as PEFT's {@code check_target_module_exists}, and resolves
 * per-module values from {@code rank_pattern}-style maps as PEFT's {@code get_pattern_key}.
 */
public final class TargetSelector {

    private final TargetSpec spec;

    /**
     * Creates a selector.
     *
     * @param spec the target specification
     */
    public TargetSelector(TargetSpec spec) {
        this.spec = spec;
    }

    /**
     * Returns the specification this selector applies.
     *
     * @return the specification
     */
    public TargetSpec spec() {
        return spec;
    }

    /**
     * Tells whether a module is listed in {@code modules_to_save} (matched as PEFT does:
     * {@code (^|.*\.)name($|\..*)}).
     *
     * @param path the dotted module path
     * @return true if the module (or an ancestor) is to be trained in full
     */
    public boolean isModuleToSave(String path) {
        return spec.modulesToSave().stream().anyMatch(m -> namesModuleToSave(m, path));
    }

    /**
     * Tells whether one {@code modules_to_save} entry names a module or one of its ancestors.
     *
     * @param entry the entry, e.g. {@code classifier}
     * @param path the dotted module path
     * @return true if PEFT's {@code (^|.*\.)entry($|\..*)} matches
     */
    public static boolean namesModuleToSave(String entry, String path) {
        return Pattern.compile("(^|.*\\.)" + entry + "($|\\..*)").matcher(path).matches();
    }

    /**
     * Tells whether a module should receive an adapter, ignoring its type.
     *
     * @param path the dotted module path
     * @return true if targeted
     */
    public boolean isTarget(String path) {
        ModuleMatcher exclude = spec.excludeModules();
        if (exclude != null && exclude.matches(path)) {
            return false;
        }
        if (isModuleToSave(path)) {
            return false;
        }
        ModuleMatcher target = spec.targetModules();
        if (target.isAllLinear()) {
            return true; // the caller keeps only Linear modules
        }
        if (target.regex() != null) {
            return target.matches(path);
        }
        if (target.namesExactly(path)) {
            return true;
        }
        if (!target.matches(path)) {
            return false;
        }
        if (spec.layersToTransform().isEmpty()) {
            return true;
        }
        Integer layer = layerIndex(path);
        return layer != null && spec.layersToTransform().contains(layer);
    }

    private Integer layerIndex(String path) {
        if (spec.layersPattern().isEmpty()) {
            return firstIndex(path, null);
        }
        for (String p : spec.layersPattern()) {
            Integer i = firstIndex(path, p);
            if (i != null) {
                return i;
            }
        }
        return null;
    }

    /**
     * Mirrors PEFT 0.21's lazy {@code re.match}: the index is the first number after the layer-list segment, so nested
     * indices (an expert inside a layer) are not taken for the layer.
     */
    private static Integer firstIndex(String path, String layerPattern) {
        Pattern p = layerPattern == null
                ? Pattern.compile(".*?\\.[^.]*\\.(\\d+)\\.")
                : Pattern.compile("(?:^|.*?\\.)" + layerPattern + "\\.(\\d+)\\.");
        Matcher m = p.matcher(path);
        return m.lookingAt() ? Integer.valueOf(m.group(1)) : null;
    }

    /**
     * Resolves a per-module value: the first key of {@code pattern} (in insertion order) whose regex matches the end of
     * the path on a dot boundary ({@code (.*\.)?(key)$}) wins; otherwise {@code fallback}.
     *
     * @param pattern key regex to value, e.g. {@code rank_pattern}
     * @param path the dotted module path
     * @param fallback the value when no key matches
     * @param <V> the value type
     * @return the resolved value
     */
    public static <V> V resolve(Map<String, V> pattern, String path, V fallback) {
        for (Map.Entry<String, V> e : pattern.entrySet()) {
            if (Pattern.compile("(.*\\.)?(" + e.getKey() + ")$").matcher(path).lookingAt()) {
                return e.getValue();
            }
        }
        return fallback;
    }
}
