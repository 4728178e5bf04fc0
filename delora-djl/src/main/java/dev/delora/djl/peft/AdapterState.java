package dev.delora.djl.peft;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.core.target.TargetSpec;
import dev.delora.djl.tree.BlockTree;
import dev.delora.djl.tree.TargetModules;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an {@link AdaptedModel} holds and does: the adapters, the adapted modules, the active adapters and the switches.
 * Not thread-safe: {@link AdaptedModel} calls it under its lock. Each operation validates before it changes anything.
 */
final class AdapterState {

    private static final Logger LOG = LoggerFactory.getLogger(AdaptedModel.class);

    final Block root;
    final LinkedHashMap<String, AdapterConfig> configs = new LinkedHashMap<>();
    final LinkedHashMap<String, AdaptedLinear> modules = new LinkedHashMap<>();
    // the per-thread names of AdaptedModel#useAdapterNames, which every module of this model reads
    private final ThreadLocal<List<String>> scopedRowNames = new ThreadLocal<>();
    List<String> active = List.of();
    boolean inferenceMode;
    private boolean disabled;
    private boolean unloaded;

    AdapterState(Block root) {
        this.root = root;
    }

    void checkOpen() {
        if (unloaded) {
            throw new IllegalStateException("The adapters were unloaded; this AdaptedModel can no longer be used");
        }
    }

    void requireAdapter(String name) {
        if (!configs.containsKey(name)) {
            throw new IllegalArgumentException("No adapter named '" + name + "'; adapters: " + configs.keySet());
        }
    }

    void add(String name, AdapterConfig config) {
        AdapterNames.checkNew(name, configs.keySet());
        TargetModules.checkModulesToSave(BlockTree.nodes(root), config.targets());
        add(name, config, AdapterWiring.create(root, config));
    }

    /** Adds prebuilt adapters; on failure they are closed and the model is unchanged. */
    void add(String name, AdapterConfig config, Map<String, LinearAdapter> created) {
        try {
            checkOpen();
            AdapterNames.checkNew(name, configs.keySet());
            // checked before the tree changes: no half-wrapped model
            Map<String, Linear> targets = AdapterWiring.checkRestored(root, name, config, created);
            Map<String, AdaptedLinear> wrappers = AdapterWiring.wrap(root, targets);
            wrappers.forEach((path, wrapper) -> {
                wrapper.addAdapter(name, created.get(path));
                wrapper.setDisabled(disabled);
                wrapper.bindRowNames(scopedRowNames);
                wrapper.setActive(active); // a new module knows the model's active list too (PEFT's layer status)
                modules.putIfAbsent(path, wrapper);
            });
        } catch (RuntimeException ex) {
            created.values().forEach(LinearAdapter::close);
            throw ex;
        }
        configs.put(name, config);
        applyTrainability(); // the new adapter is inactive: frozen
    }

    void setActive(List<String> names) {
        if (names.isEmpty() || new HashSet<>(names).size() != names.size()) {
            throw new IllegalArgumentException(
                    "Give one or more adapters, each once, got " + names + " (disableAdapters() runs the base model)");
        }
        names.forEach(this::requireAdapter);
        if (isMerged()) {
            LOG.warn("Unmerging adapters before switching the active adapters to {}", names);
            unmerge();
        }
        activate(List.copyOf(names));
    }

    private void activate(List<String> names) {
        active = names;
        modules.values().forEach(m -> m.setActive(names));
        applyTrainability();
    }

    void setDisabled(boolean value) {
        disabled = value;
        modules.values().forEach(m -> m.setDisabled(value));
    }

    MixedBatchScope useAdapterNames(List<String> perRow) {
        List<String> names = MixedBatch.names(MixedBatch.params(perRow, configs.keySet(), isMerged()));
        List<String> before = scopedRowNames.get();
        scopedRowNames.set(names);
        return () -> {
            if (before == null) {
                scopedRowNames.remove();
            } else {
                scopedRowNames.set(before);
            }
        };
    }

    void delete(String name) {
        requireAdapter(name);
        AdapterWiring.remove(root, modules, name);
        configs.remove(name);
        List<String> rest = active.stream().filter(n -> !n.equals(name)).toList();
        if (rest.isEmpty() && !configs.isEmpty()) {
            rest = List.of(configs.keySet().iterator().next());
            LOG.warn("Deleted the active adapter '{}'; '{}' is active now", name, rest.get(0));
        }
        activate(rest);
    }

    void merge(String... names) {
        if (names.length == 0 && active.isEmpty()) {
            throw new IllegalStateException("Nothing to merge: the model has no adapter left");
        }
        List<String> list = names.length == 0 ? active : List.of(names);
        list.forEach(this::requireAdapter);
        Merges.merge(modules.values(), list);
    }

    void unmerge(String... names) {
        if (names.length > 0) {
            List.of(names).forEach(this::requireAdapter);
            Merges.unmerge(modules.values(), List.of(names));
        } else if (isMerged()) {
            Merges.unmergeAll(modules.values());
        } else {
            LOG.warn("No adapter is merged; nothing to unmerge");
        }
    }

    boolean isMerged() {
        return modules.values().stream().anyMatch(m -> !m.mergedAdapters().isEmpty());
    }

    Block mergeAndUnload() {
        List<String> todo = active.stream()
                .filter(n -> modules.values().stream()
                        .noneMatch(m -> m.mergedAdapters().contains(n)))
                .toList();
        Merges.merge(modules.values(), todo);
        return removeWrappers();
    }

    Block unload() {
        if (isMerged()) {
            unmerge();
        }
        return removeWrappers();
    }

    private Block removeWrappers() {
        AdapterWiring.unwrapAll(root, modules); // merged weights stay merged (merge_and_unload)
        unloaded = true;
        return root;
    }

    void replaceAdapter(String module, String name, LinearAdapter adapter) {
        AdaptedLinear m = modules.get(module);
        m.removeAdapter(name).close();
        m.addAdapter(name, adapter);
        m.setActive(active);
    }

    void applyTrainability() {
        AdapterWiring.apply(root, modules.values(), inferenceMode ? List.of() : active, activeTargets());
    }

    Map<String, Parameter> modulesToSave() {
        return AdapterWiring.modulesToSave(root, activeTargets());
    }

    private List<TargetSpec> activeTargets() {
        return active.stream().map(n -> configs.get(n).targets()).toList();
    }
}
