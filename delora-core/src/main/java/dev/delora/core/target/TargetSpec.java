package dev.delora.core.target;

import java.util.List;
import java.util.Objects;

/**
 * Which modules receive adapters and which are trained in full, with PEFT's field semantics.
 *
 * @param targetModules modules to adapt ({@code target_modules})
 * @param excludeModules modules never to adapt, or {@code null} ({@code exclude_modules})
 * @param layersToTransform layer indices to adapt; empty means all ({@code layers_to_transform})
 * @param layersPattern names of the layer-list module(s) whose index is checked; empty means any
 *     ({@code layers_pattern})
 * @param modulesToSave modules trained in full and saved with the adapter; never adapted ({@code modules_to_save})
 */
public record TargetSpec(
        ModuleMatcher targetModules,
        ModuleMatcher excludeModules,
        List<Integer> layersToTransform,
        List<String> layersPattern,
        List<String> modulesToSave) {

    /** Validates and copies the lists. */
    public TargetSpec {
        Objects.requireNonNull(targetModules, "target_modules must be set (e.g. [\"query\", \"value\"])");
        layersToTransform = layersToTransform == null ? List.of() : List.copyOf(layersToTransform);
        layersPattern = layersPattern == null ? List.of() : List.copyOf(layersPattern);
        modulesToSave = modulesToSave == null ? List.of() : List.copyOf(modulesToSave);
        for (int i : layersToTransform) {
            if (i < 0) {
                throw new IllegalArgumentException(
                        "layers_to_transform must be non-negative, got " + layersToTransform);
            }
        }
        if (!layersPattern.isEmpty() && layersToTransform.isEmpty()) {
            throw new IllegalArgumentException("layers_pattern " + layersPattern
                    + " needs layers_to_transform (PEFT rejects a pattern without indices)");
        }
    }

    /**
     * Targets the given module names or suffixes with no other filter.
     *
     * @param names names or dot-aligned suffixes
     * @return the specification
     */
    public static TargetSpec of(String... names) {
        return new TargetSpec(ModuleMatcher.names(names), null, List.of(), List.of(), List.of());
    }
}
