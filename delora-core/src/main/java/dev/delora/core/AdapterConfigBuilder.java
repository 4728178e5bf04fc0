package dev.delora.core;

import dev.delora.core.target.ModuleMatcher;
import dev.delora.core.target.TargetSpec;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * The targeting options every method's config builder shares ({@code target_modules}, {@code exclude_modules},
 * {@code layers_to_transform}, {@code layers_pattern}, {@code modules_to_save}).
 *
 * @param <B> the concrete builder type
 */
public abstract class AdapterConfigBuilder<B extends AdapterConfigBuilder<B>> {

    /** The default rank (8 for every method, as PEFT). */
    protected int r = 8;
    /** Per-module ranks by regex, in insertion order. */
    protected final Map<String, Integer> rankPattern = new LinkedHashMap<>();

    private ModuleMatcher targetModules;
    private ModuleMatcher excludeModules;
    private List<Integer> layersToTransform = List.of();
    private List<String> layersPattern = List.of();
    private List<String> modulesToSave = List.of();

    /** Creates a builder with no targets set. */
    protected AdapterConfigBuilder() {}

    /**
     * Returns this builder as its concrete type.
     *
     * @return this
     */
    protected abstract B self();

    /**
     * Sets the default rank.
     *
     * @param r the rank
     * @return this builder
     */
    public B r(int r) {
        this.r = r;
        return self();
    }

    /**
     * Overrides the rank of modules matching a key ({@code rank_pattern}).
     *
     * @param key a regex matched against the end of the module path
     * @param rank the rank
     * @return this builder
     */
    public B rankPattern(String key, int rank) {
        rankPattern.put(key, rank);
        return self();
    }

    /**
     * Adapts modules whose path equals one of the names or ends with {@code "." + name}.
     *
     * @param names module names or suffixes, e.g. {@code "query", "value"}
     * @return this builder
     */
    public B targetModules(String... names) {
        targetModules = ModuleMatcher.names(names);
        return self();
    }

    /**
     * Adapts modules whose whole path matches the regex ({@code "all-linear"} selects every Linear outside
     * {@code modules_to_save}).
     *
     * @param regex a full-match regular expression
     * @return this builder
     */
    public B targetModulesRegex(String regex) {
        targetModules = ModuleMatcher.regex(regex);
        return self();
    }

    /**
     * Sets the target matcher directly.
     *
     * @param matcher the matcher
     * @return this builder
     */
    public B targetModules(ModuleMatcher matcher) {
        targetModules = matcher;
        return self();
    }

    /**
     * Never adapts modules named like this (same rules as {@link #targetModules(String...)}).
     *
     * @param names module names or suffixes
     * @return this builder
     */
    public B excludeModules(String... names) {
        excludeModules = ModuleMatcher.names(names);
        return self();
    }

    /**
     * Sets the exclusion matcher directly.
     *
     * @param matcher the matcher, or {@code null}
     * @return this builder
     */
    public B excludeModules(ModuleMatcher matcher) {
        excludeModules = matcher;
        return self();
    }

    /**
     * Adapts only the layers with these indices.
     *
     * @param indices layer indices
     * @return this builder
     */
    public B layersToTransform(int... indices) {
        layersToTransform = IntStream.of(indices).boxed().toList();
        return self();
    }

    /**
     * Names the layer-list module(s) whose index {@link #layersToTransform(int...)} filters on (e.g. {@code "layer"}).
     *
     * @param patterns module names
     * @return this builder
     */
    public B layersPattern(String... patterns) {
        layersPattern = Arrays.asList(patterns);
        return self();
    }

    /**
     * Trains these modules in full and saves them with the adapter (e.g. a classification head).
     *
     * @param names module names
     * @return this builder
     */
    public B modulesToSave(String... names) {
        modulesToSave = Arrays.asList(names);
        return self();
    }

    /**
     * Sets every targeting option at once (e.g. from a parsed {@code adapter_config.json}).
     *
     * @param spec the targeting fields
     * @return this builder
     */
    public B targets(TargetSpec spec) {
        targetModules = spec.targetModules();
        excludeModules = spec.excludeModules();
        layersToTransform = spec.layersToTransform();
        layersPattern = spec.layersPattern();
        modulesToSave = spec.modulesToSave();
        return self();
    }

    /**
     * Builds the target specification from the options set so far.
     *
     * @return the specification
     */
    protected TargetSpec targets() {
        return new TargetSpec(targetModules, excludeModules, layersToTransform, layersPattern, modulesToSave);
    }
}
