package dev.delora.djl.tree;

import ai.djl.nn.Block;
import ai.djl.nn.core.Linear;
import dev.delora.core.target.TargetSelector;
import dev.delora.core.target.TargetSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Which {@code Linear} modules of a block tree a {@link TargetSpec} selects, with PEFT's rules and clear errors. */
public final class TargetModules {

    private TargetModules() {}

    /**
     * Selects the targeted modules without changing anything.
     *
     * @param root the root block
     * @param spec the targeting fields
     * @return module path to the targeted {@code Linear}, in tree order
     * @throws IllegalArgumentException if nothing matches or a match is not a {@code Linear}
     */
    public static Map<String, Linear> select(Block root, TargetSpec spec) {
        return select(BlockTree.nodes(root), spec);
    }

    /**
     * Selects the targeted modules among already listed nodes.
     *
     * @param nodes the tree's nodes ({@link BlockTree#nodes})
     * @param spec the targeting fields
     * @return module path to the targeted {@code Linear}, in tree order
     * @throws IllegalArgumentException if nothing matches or a match is not a {@code Linear}
     */
    public static Map<String, Linear> select(Map<String, BlockTree.Node> nodes, TargetSpec spec) {
        TargetSelector selector = new TargetSelector(spec);
        boolean allLinear = spec.targetModules().isAllLinear();
        Map<String, Linear> targets = new LinkedHashMap<>();
        for (BlockTree.Node node : nodes.values()) {
            String path = node.path();
            if (path.isEmpty() || !selector.isTarget(path)) {
                continue;
            }
            if (node.block() instanceof Linear linear) {
                targets.put(path, linear);
            } else if (!allLinear) {
                throw new IllegalArgumentException("Target module '" + path + "' is a "
                        + node.block().getClass().getName() + ", but only ai.djl.nn.core.Linear modules can be "
                        + "adapted; narrow target_modules " + spec.targetModules());
            }
        }
        if (targets.isEmpty()) {
            List<String> linears = nodes.values().stream()
                    .filter(n -> n.block() instanceof Linear)
                    .map(BlockTree.Node::path)
                    .toList();
            throw new IllegalArgumentException("No module matches target_modules " + spec.targetModules()
                    + " (exclude_modules " + spec.excludeModules() + ", layers_to_transform "
                    + spec.layersToTransform() + "). Linear modules in this model: " + linears);
        }
        return targets;
    }

    /**
     * Checks that every {@code modules_to_save} entry names a module.
     *
     * @param nodes the tree's nodes
     * @param spec the targeting fields
     * @throws IllegalArgumentException naming the entry and listing the modules
     */
    public static void checkModulesToSave(Map<String, BlockTree.Node> nodes, TargetSpec spec) {
        for (String name : spec.modulesToSave()) {
            if (nodes.keySet().stream().noneMatch(p -> !p.isEmpty() && TargetSelector.namesModuleToSave(name, p))) {
                throw new IllegalArgumentException("modules_to_save entry '" + name + "' matches no module; modules: "
                        + nodes.keySet().stream().filter(p -> !p.isEmpty()).toList());
            }
        }
    }
}
