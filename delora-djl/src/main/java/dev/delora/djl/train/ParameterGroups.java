package dev.delora.djl.train;

import ai.djl.nn.Parameter;
import dev.delora.core.method.ParameterGroup;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * An ordered list of {@link ParameterGroup} rules: each trainable parameter goes to the first group whose selector
 * accepts its dotted name, or to the default group. Frozen parameters ({@code !requiresGradient()}) are skipped.
 * Methods add their own rules first (DeLoRA's λ, see {@link MethodTraining}); this class names no method.
 */
public final class ParameterGroups {

    /** Weight decay of {@code torch.optim.AdamW} and of the DeLoRA/LoRA-XS reference scripts. */
    public static final double DEFAULT_WEIGHT_DECAY = 0.01;

    // A module named like a LayerNorm: HF BERT/RoBERTa "LayerNorm", T5/BART "layer_norm"/"final_layer_norm",
    // GPT-2 "ln_1"/"ln_f", and DJL's own "layerNorm".
    private static final Pattern LAYER_NORM_SEGMENT = Pattern.compile("(?i)(.*layer_?norm.*|ln|ln_\\w+|ln\\d+)");

    private final List<ParameterGroup> rules;
    private final ParameterGroup fallback;

    private ParameterGroups(List<ParameterGroup> rules, ParameterGroup fallback) {
        this.rules = List.copyOf(rules);
        this.fallback = fallback;
    }

    /**
     * The grouping most transformer recipes use: no decay on biases and LayerNorm, {@code weightDecay} elsewhere.
     *
     * @param weightDecay the decay of the other parameters
     * @return a builder holding the preset
     */
    public static Builder standard(double weightDecay) {
        return builder()
                .add(ParameterGroup.atBaseLr("no_decay", ParameterGroups::isNoDecay, 0.0))
                .fallback(ParameterGroup.atBaseLr("decay", n -> true, weightDecay));
    }

    /**
     * An empty builder whose fallback is the base lr with decay 0.01.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Whether the reference recipes exclude a parameter from weight decay: its name contains {@code bias} or it
     * belongs to a LayerNorm module.
     *
     * @param name dotted parameter name
     * @return true for no decay
     */
    public static boolean isNoDecay(String name) {
        return name.contains("bias") || isLayerNorm(name);
    }

    /**
     * Whether a dotted parameter name belongs to a LayerNorm module: a module path segment (not the final parameter
     * name) is {@code LayerNorm}, {@code layer_norm}, {@code *_layer_norm}, {@code ln}, {@code ln_*} and the like.
     *
     * @param name dotted parameter name, e.g. {@code roberta.encoder.layer.0.output.LayerNorm.weight}
     * @return true if a module segment names a layer norm
     */
    public static boolean isLayerNorm(String name) {
        String[] parts = name.split("\\.");
        for (int i = 0; i < parts.length - 1; i++) {
            if (LAYER_NORM_SEGMENT.matcher(parts[i]).matches()) {
                return true;
            }
        }
        return false;
    }

    /**
     * The rules in priority order (the fallback excluded).
     *
     * @return an unmodifiable list
     */
    public List<ParameterGroup> rules() {
        return rules;
    }

    /**
     * The group of parameters no rule selects.
     *
     * @return the fallback group
     */
    public ParameterGroup fallback() {
        return fallback;
    }

    /**
     * Assigns every trainable parameter to its group.
     *
     * @param parameters dotted name to parameter, e.g. {@code BlockTree.parameters(root)}
     * @return one entry per non-empty group, rules first then the fallback, members in the map's order
     */
    public List<Assigned> assign(Map<String, Parameter> parameters) {
        List<LinkedHashMap<String, Parameter>> members = new ArrayList<>();
        for (int i = 0; i <= rules.size(); i++) {
            members.add(new LinkedHashMap<>());
        }
        for (Map.Entry<String, Parameter> e : parameters.entrySet()) {
            if (!e.getValue().requiresGradient()) {
                continue;
            }
            int idx = rules.size();
            for (int i = 0; i < rules.size(); i++) {
                if (rules.get(i).selector().test(e.getKey())) {
                    idx = i;
                    break;
                }
            }
            members.get(idx).put(e.getKey(), e.getValue());
        }
        List<Assigned> out = new ArrayList<>();
        for (int i = 0; i <= rules.size(); i++) {
            if (!members.get(i).isEmpty()) {
                out.add(new Assigned(
                        i < rules.size() ? rules.get(i) : fallback, Collections.unmodifiableMap(members.get(i))));
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("No trainable parameter among " + parameters.size()
                    + " parameters: freeze fewer or check requiresGradient()");
        }
        return out;
    }

    /**
     * A group with the parameters assigned to it.
     *
     * @param group the rule
     * @param parameters dotted name to parameter
     */
    public record Assigned(ParameterGroup group, Map<String, Parameter> parameters) {

        /** Checks presence. */
        public Assigned {
            Objects.requireNonNull(group, "group");
            Objects.requireNonNull(parameters, "parameters");
        }
    }

    /** Builds a {@link ParameterGroups}. */
    public static final class Builder {

        private final List<ParameterGroup> rules = new ArrayList<>();
        private ParameterGroup fallback = ParameterGroup.atBaseLr("default", n -> true, DEFAULT_WEIGHT_DECAY);

        private Builder() {}

        /**
         * Appends a rule (lower priority than those before it).
         *
         * @param group the rule
         * @return this builder
         */
        public Builder add(ParameterGroup group) {
            rules.add(Objects.requireNonNull(group, "group"));
            return this;
        }

        /**
         * Inserts a rule with the highest priority, e.g. a classifier head at its own lr over a preset.
         *
         * @param group the rule
         * @return this builder
         */
        public Builder addFirst(ParameterGroup group) {
            rules.add(0, Objects.requireNonNull(group, "group"));
            return this;
        }

        /**
         * Sets the group for parameters no rule selects (its selector is not consulted).
         *
         * @param group the fallback
         * @return this builder
         */
        public Builder fallback(ParameterGroup group) {
            fallback = Objects.requireNonNull(group, "group");
            return this;
        }

        /**
         * Convenience for the common "head at its own lr" rule: parameters under a module path prefix.
         *
         * @param modulePrefix e.g. {@code classifier}
         * @param lr the head's learning rate
         * @param weightDecay the head's decay
         * @return this builder
         */
        public Builder headLr(String modulePrefix, double lr, double weightDecay) {
            Predicate<String> under = n -> n.equals(modulePrefix) || n.startsWith(modulePrefix + ".");
            return addFirst(ParameterGroup.withLr("head:" + modulePrefix, under, lr, weightDecay));
        }

        /**
         * Builds the groups.
         *
         * @return the immutable grouping
         */
        public ParameterGroups build() {
            return new ParameterGroups(rules, fallback);
        }
    }
}
