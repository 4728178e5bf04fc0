package dev.delora.djl.train;

import ai.djl.nn.Parameter;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.core.method.AdapterMethods;
import dev.delora.core.method.ParameterGroup;
import dev.delora.core.method.TrainingContext;
import dev.delora.core.method.TrainingExtension;
import dev.delora.djl.peft.AdaptedLinear;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.djl.tree.BlockTree;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The optimizer and method extension for training a model's active adapter, built from its config; what
 * {@link AdapterTrainer#forAdapter} uses, for callers that run their own loop.
 *
 * @param optimizer AdamW over every trainable parameter the extension does not own
 * @param extension the method's extension
 */
public record MethodTraining(GroupedAdamW optimizer, TrainingExtension extension) implements AutoCloseable {

    /**
     * Builds the optimizer and extension.
     *
     * @param model the model, its active adapter the one to train
     * @param settings learning rates and weight decay
     * @return the setup (close it)
     * @throws IllegalArgumentException if a group learning rate names a group the method does not define
     * @throws IllegalStateException unless exactly one adapter is active
     */
    public static MethodTraining of(AdaptedModel model, TrainerSettings settings) {
        List<String> active = model.activeAdapters();
        if (active.size() != 1) {
            // each method's groups, learning rates and extras are built for one adapter; training a second one with
            // plain AdamW alongside would silently drop its method's extras
            throw new IllegalStateException("Training needs exactly one active adapter, found " + active.size() + " "
                    + active + "; call setAdapter(name) first");
        }
        String name = active.get(0);
        AdapterConfig config = model.adapters().get(name);
        Map<String, LinearAdapter> adapters = new LinkedHashMap<>();
        for (Map.Entry<String, AdaptedLinear> e : model.adaptedModules().entrySet()) {
            LinearAdapter a = e.getValue().adapters().get(name);
            if (a != null) {
                adapters.put(e.getKey(), a);
            }
        }
        TrainingContext context = new TrainingContext(
                name, adapters, settings.learningRate(), settings.weightDecay(), settings.groupLearningRates());
        TrainingExtension extension = AdapterMethods.of(config).training(config, context);
        try {
            ParameterGroups.Builder groups = ParameterGroups.standard(settings.weightDecay());
            List<ParameterGroup> rules = extension.parameterGroups();
            for (int i = rules.size() - 1; i >= 0; i--) {
                groups.addFirst(rules.get(i));
            }
            ParameterGroups grouping = groups.build();
            Set<String> known = context.groupsDefined(extension);
            for (String group : settings.groupLearningRates().keySet()) {
                if (!known.contains(group)) {
                    throw new IllegalArgumentException("Learning rate set for parameter group '" + group + "', which "
                            + AdapterMethods.of(config).name() + " does not define; its groups: " + known);
                }
            }
            Set<Parameter> owned = extension.ownedParameters();
            Map<String, Parameter> parameters = new LinkedHashMap<>();
            BlockTree.parameters(model.block()).forEach((k, p) -> {
                if (!owned.contains(p)) {
                    parameters.put(k, p);
                }
            });
            return new MethodTraining(GroupedAdamW.create(parameters, grouping, settings.learningRate()), extension);
        } catch (RuntimeException e) {
            extension.close();
            throw e;
        }
    }

    /** Frees the optimizer and the extension. */
    @Override
    public void close() {
        try {
            extension.close();
        } finally {
            optimizer.close();
        }
    }
}
