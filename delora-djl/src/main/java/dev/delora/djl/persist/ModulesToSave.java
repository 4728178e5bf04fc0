package dev.delora.djl.persist;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import dev.delora.core.AdapterConfig;
import dev.delora.core.target.TargetSelector;
import dev.delora.core.target.TargetSpec;
import dev.delora.djl.peft.PeftTaskModel;
import dev.delora.djl.tree.BlockTree;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Which modules are saved in full with an adapter, and their parameters, as PEFT decides. */
final class ModulesToSave {

    private static final Logger LOG = LoggerFactory.getLogger(ModulesToSave.class);

    private ModulesToSave() {}

    /**
     * The modules whose weights are saved with an adapter: the config's modules_to_save, plus the task head when the
     * task type is the model's own ({@link PeftTaskModel}), as PEFT's task models add it (and expect its weights in
     * the file) whatever the config says.
     */
    static List<String> saved(Block root, AdapterConfig config, String taskType) {
        Set<String> out = new LinkedHashSet<>(config.targets().modulesToSave());
        if (taskType != null && root instanceof PeftTaskModel task && taskType.equals(task.peftTaskType())) {
            out.addAll(task.headModules());
        }
        return List.copyOf(out);
    }

    /** Parameters (state-dict key → parameter) of the modules named by modules_to_save entries, and their children. */
    static Map<String, Parameter> parameters(Block root, List<String> entries) {
        Map<String, Parameter> out = new LinkedHashMap<>();
        if (entries.isEmpty()) {
            return out;
        }
        Set<String> modules = new LinkedHashSet<>();
        BlockTree.nodes(root).keySet().stream()
                .filter(p -> !p.isEmpty() && entries.stream().anyMatch(e -> TargetSelector.namesModuleToSave(e, p)))
                .forEach(modules::add);
        BlockTree.parameters(root).forEach((key, p) -> {
            String module = key.substring(0, Math.max(0, key.lastIndexOf('.')));
            if (modules.contains(module)) {
                out.put(key, p);
            }
        });
        return out;
    }

    /**
     * Drops modules_to_save entries that match no module of this model: PEFT adds {@code ["classifier", "score"]}
     * for every SEQ_CLS adapter and skips the one a model does not have.
     */
    static AdapterConfig keepPresent(Block root, AdapterConfig config) {
        TargetSpec t = config.targets();
        Set<String> paths = BlockTree.nodes(root).keySet();
        List<String> kept = t.modulesToSave().stream()
                .filter(e -> paths.stream().anyMatch(p -> !p.isEmpty() && TargetSelector.namesModuleToSave(e, p)))
                .toList();
        if (kept.size() == t.modulesToSave().size()) {
            return config;
        }
        LOG.debug(
                "modules_to_save entries {} match no module of this model; ignored as PEFT does",
                t.modulesToSave().stream().filter(e -> !kept.contains(e)).toList());
        return config.withTargets(
                new TargetSpec(t.targetModules(), t.excludeModules(), t.layersToTransform(), t.layersPattern(), kept));
    }
}
