package dev.delora.djl.peft;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.core.array.GradMode;
import dev.delora.core.target.TargetSelector;
import dev.delora.core.target.TargetSpec;
import dev.delora.djl.tree.BlockTree;
import dev.delora.djl.tree.TargetModules;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Wiring adapters into a block tree: wrapping targeted modules, unwrapping them, and which parameters train (the active
 * adapters' and the modules to save).
 */
final class AdapterWiring {

    private AdapterWiring() {}

    /** Creates (initialises) one adapter per targeted module; on failure, closes those already created. */
    static Map<String, LinearAdapter> create(Block root, AdapterConfig config) {
        Map<String, LinearAdapter> created = new LinkedHashMap<>();
        // initialisers compute from parameters (frozen copies, magnitudes): no graph, whichever thread this is
        try (GradMode noGraphs = GradMode.off()) {
            for (Map.Entry<String, Linear> e :
                    TargetModules.select(root, config.targets()).entrySet()) {
                Parameter w = e.getValue().getDirectParameters().get("weight");
                if (w == null || !w.isInitialized()) {
                    throw new IllegalArgumentException("Module '" + e.getKey() + "' is not initialised; initialise "
                            + "the model or load its weights before injecting adapters");
                }
                NDArray weight = w.getArray();
                created.put(e.getKey(), config.create(e.getKey(), weight, weight.getManager()));
            }
            return created;
        } catch (RuntimeException ex) {
            created.values().forEach(LinearAdapter::close);
            throw ex;
        }
    }

    /** Checks that every prebuilt adapter fits its module's weight. */
    static void checkFits(Map<String, Linear> targets, String name, Map<String, LinearAdapter> adapters) {
        targets.forEach((path, linear) -> AdaptedLinear.checkFits(
                linear.getDirectParameters().get("weight").getArray().getShape(), name, adapters.get(path)));
    }

    /** Swaps an {@link AdaptedLinear} in for every target that is not one yet; the tree is unchanged on failure. */
    static Map<String, AdaptedLinear> wrap(Block root, Map<String, Linear> targets) {
        Map<Block, Block> swaps = new IdentityHashMap<>();
        Map<String, AdaptedLinear> wrappers = new LinkedHashMap<>();
        for (Map.Entry<String, Linear> e : targets.entrySet()) {
            Linear linear = e.getValue();
            AdaptedLinear wrapper = linear instanceof AdaptedLinear a ? a : new AdaptedLinear(linear);
            if (wrapper != linear) {
                swaps.put(linear, wrapper);
            }
            wrappers.put(e.getKey(), wrapper);
        }
        BlockTree.replace(root, swaps);
        return wrappers;
    }

    /**
     * Removes an adapter from every module (unmerging it first where merged) and frees it; modules left without
     * adapters are unwrapped and dropped from {@code modules}.
     */
    static void remove(Block root, Map<String, AdaptedLinear> modules, String name) {
        Map<Block, Block> unwrap = new IdentityHashMap<>();
        List<String> emptied = new ArrayList<>();
        for (Map.Entry<String, AdaptedLinear> e : modules.entrySet()) {
            AdaptedLinear m = e.getValue();
            if (m.mergedAdapters().contains(name)) {
                m.unmerge(name);
            }
            LinearAdapter removed = m.removeAdapter(name);
            if (removed != null) {
                removed.close();
            }
            if (m.adapters().isEmpty()) {
                unwrap.put(m, m.base());
                emptied.add(e.getKey());
            }
        }
        BlockTree.replace(root, unwrap);
        emptied.forEach(modules::remove);
    }

    /** Unwraps every module and frees every adapter, leaving the base weights as they are (merged or not). */
    static void unwrapAll(Block root, Map<String, AdaptedLinear> modules) {
        Map<Block, Block> unwrap = new IdentityHashMap<>();
        modules.values().forEach(m -> unwrap.put(m, m.base()));
        BlockTree.replace(root, unwrap);
        for (AdaptedLinear m : modules.values()) {
            for (String name : new ArrayList<>(m.adapters().keySet())) {
                m.removeAdapter(name).close();
            }
        }
        modules.clear();
    }

    /**
     * Freezes every parameter except the active adapters' and those of their modules to save; with no active adapter
     * (inference mode, or no adapter left) every parameter.
     */
    static void apply(Block root, Collection<AdaptedLinear> modules, List<String> active, List<TargetSpec> targets) {
        Set<Parameter> trainable = Collections.newSetFromMap(new IdentityHashMap<>());
        for (AdaptedLinear m : modules) {
            for (String name : active) {
                LinearAdapter a = m.adapters().get(name);
                if (a != null) {
                    trainable.addAll(a.parameters().values());
                }
            }
        }
        if (!active.isEmpty()) {
            trainable.addAll(modulesToSave(root, targets).values());
        }
        for (Parameter p : BlockTree.parameters(root).values()) {
            p.freeze(!trainable.contains(p));
        }
    }

    /** The parameters of the modules to save of any of the given target specs, by state-dict key. */
    static Map<String, Parameter> modulesToSave(Block root, List<TargetSpec> targets) {
        Map<String, Parameter> out = new LinkedHashMap<>();
        targets.forEach(t -> out.putAll(modulesToSave(root, t)));
        return out;
    }

    /**
     * Checks that a block holds no adapters yet.
     *
     * @throws IllegalStateException naming the first adapted module
     */
    static void requireNoAdapters(Block root) {
        for (BlockTree.Node node : BlockTree.nodes(root).values()) {
            if (node.block() instanceof AdaptedLinear) {
                throw new IllegalStateException("The model already has adapters (module '" + node.path()
                        + "'); add or load more through the AdaptedModel that holds them");
            }
        }
    }

    /** Checks that prebuilt adapters cover exactly the targets and fit them; returns the targets. */
    static Map<String, Linear> checkRestored(
            Block root, String name, AdapterConfig config, Map<String, LinearAdapter> restored) {
        Map<String, Linear> targets = TargetModules.select(root, config.targets());
        if (!targets.keySet().equals(restored.keySet())) {
            throw new IllegalArgumentException("Restored adapter '" + name + "' covers modules " + restored.keySet()
                    + " but its config targets " + targets.keySet());
        }
        checkFits(targets, name, restored);
        return targets;
    }

    /** The parameters of the modules to save, by state-dict key. */
    static Map<String, Parameter> modulesToSave(Block root, TargetSpec targets) {
        TargetSelector selector = new TargetSelector(targets);
        Map<String, Parameter> out = new LinkedHashMap<>();
        Set<String> savedModules = BlockTree.nodes(root).keySet().stream()
                .filter(p -> !p.isEmpty() && selector.isModuleToSave(p))
                .collect(Collectors.toCollection(LinkedHashSet::new));
        BlockTree.parameters(root).forEach((key, p) -> {
            String module = key.substring(0, Math.max(0, key.lastIndexOf('.')));
            if (savedModules.contains(module)) {
                out.put(key, p);
            }
        });
        return out;
    }
}
