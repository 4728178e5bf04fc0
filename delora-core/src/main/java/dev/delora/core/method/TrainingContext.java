package dev.delora.core.method;

import ai.djl.nn.Parameter;
import dev.delora.core.LinearAdapter;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a method's {@link TrainingExtension} may know about the run: the adapter being trained (its per-module
 * adapters and their parameters' names in the model) and the learning rates. Group learning rates are looked up by
 * group name ({@link #learningRate(String, double)}), so a caller sets DeLoRA's λ rate as
 * {@code "delora_lambda" → 3e-3} without method-specific code; the names asked for are recorded so that a caller can
 * reject names no method used.
 */
public final class TrainingContext {

    private final String adapterName;
    private final Map<String, LinearAdapter> adapters;
    private final double learningRate;
    private final double weightDecay;
    private final Map<String, Double> groupLearningRates;
    private final Set<String> asked = Collections.synchronizedSet(new LinkedHashSet<>());

    /**
     * Creates a context.
     *
     * @param adapterName the adapter's name (part of its parameters' names)
     * @param adapters module path to that module's adapter
     * @param learningRate the base learning rate
     * @param weightDecay the base weight decay
     * @param groupLearningRates learning rates by group name
     */
    public TrainingContext(
            String adapterName,
            Map<String, LinearAdapter> adapters,
            double learningRate,
            double weightDecay,
            Map<String, Double> groupLearningRates) {
        this.adapterName = Objects.requireNonNull(adapterName, "adapterName");
        this.adapters = Collections.unmodifiableMap(new LinkedHashMap<>(adapters));
        this.learningRate = learningRate;
        this.weightDecay = weightDecay;
        this.groupLearningRates = Map.copyOf(groupLearningRates);
    }

    /**
     * Returns the per-module adapters being trained.
     *
     * @return module path to adapter
     */
    public Map<String, LinearAdapter> adapters() {
        return adapters;
    }

    /**
     * Returns the base learning rate.
     *
     * @return the lr
     */
    public double learningRate() {
        return learningRate;
    }

    /**
     * Returns the base weight decay.
     *
     * @return the decay
     */
    public double weightDecay() {
        return weightDecay;
    }

    /**
     * Returns the learning rate set for a group, or a fallback, and records that the group exists.
     *
     * @param group the group name
     * @param fallback the rate when none was set
     * @return the rate
     */
    public double learningRate(String group, double fallback) {
        asked.add(group);
        Double lr = groupLearningRates.get(group);
        return lr == null ? fallback : lr;
    }

    /**
     * Returns the group names asked for so far.
     *
     * @return the names
     */
    public Set<String> groupsAsked() {
        return Set.copyOf(asked);
    }

    /**
     * Returns the names of the groups a method defines with this context: those it asked a learning rate for, and
     * those of its extension's parameter groups. A caller rejects rates set for any other name.
     *
     * @param extension the extension the method built with this context
     * @return the names, sorted
     */
    public Set<String> groupsDefined(TrainingExtension extension) {
        Set<String> out = new TreeSet<>(asked);
        extension.parameterGroups().forEach(g -> out.add(g.name()));
        return out;
    }

    /**
     * Returns one parameter of every module's adapter under its dotted name in the model ({@code <module
     * path>.<name under the adapter>}, see {@link LinearAdapter#qualifiedName}).
     *
     * @param key the parameter's key in {@link LinearAdapter#parameters()}, e.g. {@code delora_lambda}
     * @return full name to parameter, in module order; modules whose adapter lacks the key are skipped
     */
    public Map<String, Parameter> parameters(String key) {
        Map<String, Parameter> out = new LinkedHashMap<>();
        adapters.forEach((path, adapter) -> {
            Parameter p = adapter.parameters().get(key);
            if (p != null) {
                out.put(path + "." + LinearAdapter.qualifiedName(key, adapterName), p);
            }
        });
        return out;
    }
}
