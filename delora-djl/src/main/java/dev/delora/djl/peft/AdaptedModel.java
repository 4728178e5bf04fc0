package dev.delora.djl.peft;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.djl.tree.BlockTree;
import dev.delora.djl.tree.TargetModules;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The handle on a DJL model with adapters, like PEFT's {@code PeftModel}: adapters by name, the active one,
 * merge/unmerge, unload and inference mode. Injection finds {@code Linear} blocks by PEFT-style dotted paths
 * ({@link BlockTree}), swaps in an {@link AdaptedLinear} wherever the tree refers to the original and freezes every
 * parameter that is neither the active adapter's nor in {@code modules_to_save}. Every operation validates first and
 * changes the model only when it can complete.
 *
 * <p>{@code modules_to_save} are trained in place (as the DeLoRA and LoRA-XS reference code does), not as PEFT's
 * per-adapter copies, so all adapters share them. DJL's {@code Model.newTrainer} unfreezes every parameter of a
 * model from {@code Model.load}; call {@link #applyTrainability()} after creating a DJL trainer.
 *
 * <p>Thread-safe: methods hold this handle's lock, so changes from several threads apply one at a time; forward
 * passes read each module's state without locking and see a change before or after, never half-done. Returned maps
 * are snapshots.
 */
public final class AdaptedModel {

    /** The adapter name used when none is given, as in PEFT. */
    public static final String DEFAULT_ADAPTER = "default";

    private static final Logger LOG = LoggerFactory.getLogger(AdaptedModel.class);

    private final Block root;
    private final LinkedHashMap<String, AdapterConfig> configs = new LinkedHashMap<>();
    private final LinkedHashMap<String, AdaptedLinear> modules = new LinkedHashMap<>();
    private String activeAdapter;
    private boolean disabled;
    private boolean unloaded;
    private boolean inferenceMode;

    private AdaptedModel(Block root) {
        this.root = root;
    }

    /**
     * Injects an adapter named {@value #DEFAULT_ADAPTER} into a block tree.
     *
     * @param root the root block; targeted modules must be initialised
     * @param config the adapter config
     * @return the handle
     */
    public static AdaptedModel inject(Block root, AdapterConfig config) {
        return inject(root, config, DEFAULT_ADAPTER);
    }

    /**
     * Injects a named adapter into a block tree and makes it the active, trainable one.
     *
     * @param root the root block; targeted modules must be initialised
     * @param config the adapter config
     * @param adapterName the adapter's name
     * @return the handle
     * @throws IllegalArgumentException if nothing matches, a match is not a {@code Linear}, or a module to save does
     *     not exist; the model is unchanged then
     */
    public static AdaptedModel inject(Block root, AdapterConfig config, String adapterName) {
        requireNoAdapters(root);
        AdaptedModel model = new AdaptedModel(root);
        model.addAdapter(adapterName, config);
        model.setAdapter(adapterName);
        return model;
    }

    /**
     * Returns the root block (adapted in place).
     *
     * @return the root block
     */
    public Block block() {
        return root;
    }

    /**
     * Returns the adapted modules by dotted path.
     *
     * @return an unmodifiable view
     */
    public synchronized Map<String, AdaptedLinear> adaptedModules() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(modules));
    }

    /**
     * Returns the adapter configs by adapter name.
     *
     * @return an unmodifiable view
     */
    public synchronized Map<String, AdapterConfig> adapters() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(configs));
    }

    /**
     * Returns the active adapter's name.
     *
     * @return the name
     */
    public synchronized String activeAdapter() {
        return activeAdapter;
    }

    /**
     * Adds another adapter (PEFT's {@code add_adapter}); it is not made active.
     *
     * @param name a new adapter name
     * @param config its config
     * @throws IllegalArgumentException if the name is taken or the targets are invalid; the model is unchanged then
     */
    public synchronized void addAdapter(String name, AdapterConfig config) {
        checkOpen();
        checkNewName(name);
        TargetModules.checkModulesToSave(BlockTree.nodes(root), config.targets());
        addAdapter(name, config, AdapterWiring.create(root, config));
    }

    private void checkNewName(String name) {
        AdapterNames.checkNew(name, configs.keySet());
    }

    /** Wraps the targets and registers the adapters (the caller closes them and the model is unchanged on failure). */
    private void attach(
            String name, AdapterConfig config, Map<String, Linear> targets, Map<String, LinearAdapter> created) {
        Map<String, AdaptedLinear> wrappers = AdapterWiring.wrap(root, targets);
        wrappers.forEach((path, wrapper) -> {
            wrapper.addAdapter(name, created.get(path));
            wrapper.setDisabled(disabled);
            modules.putIfAbsent(path, wrapper);
        });
        configs.put(name, config);
        if (activeAdapter != null) {
            applyTrainability();
        }
    }

    /**
     * Adds an adapter whose per-module {@link LinearAdapter}s the caller built (e.g. restored from a file); it is not
     * made active. The adapters must cover exactly the modules the config targets ({@link TargetModules#select}) and
     * are
     * owned by the model from then on. On failure they are closed and the model is unchanged.
     *
     * @param name a new adapter name
     * @param config its config
     * @param restored module path to that module's adapter
     */
    public synchronized void addAdapter(String name, AdapterConfig config, Map<String, LinearAdapter> restored) {
        try {
            checkOpen();
            checkNewName(name);
            Map<String, Linear> targets = TargetModules.select(root, config.targets());
            if (!targets.keySet().equals(restored.keySet())) {
                throw new IllegalArgumentException("Restored adapter '" + name + "' covers modules " + restored.keySet()
                        + " but its config targets " + targets.keySet());
            }
            AdapterWiring.checkFits(targets, name, restored); // before the tree changes: no half-wrapped model
            attach(name, config, targets, restored);
        } catch (RuntimeException ex) {
            restored.values().forEach(AdaptedModel::close);
            throw ex;
        }
    }

    /**
     * Creates the handle of a block without adapters from per-module adapters the caller built (e.g. restored from a
     * file), and makes that adapter active; see {@link #addAdapter(String, AdapterConfig, Map)}.
     *
     * @param root the root block, without adapters
     * @param name the adapter name
     * @param config its config
     * @param restored module path to that module's adapter
     * @return the handle
     * @throws IllegalStateException if the block already holds adapters
     */
    public static AdaptedModel withAdapters(
            Block root, String name, AdapterConfig config, Map<String, LinearAdapter> restored) {
        try {
            requireNoAdapters(root);
        } catch (IllegalStateException e) {
            restored.values().forEach(LinearAdapter::close);
            throw e;
        }
        AdaptedModel model = new AdaptedModel(root);
        model.addAdapter(name, config, restored);
        model.setAdapter(name);
        return model;
    }

    /**
     * Makes an adapter the active one (PEFT's {@code set_adapter}); merged adapters are unmerged first.
     *
     * @param name the adapter name
     */
    public synchronized void setAdapter(String name) {
        checkOpen();
        requireAdapter(name);
        if (isMerged()) {
            LOG.warn("Unmerging adapters before switching the active adapter to '{}'", name);
            unmerge();
        }
        activeAdapter = name;
        for (AdaptedLinear m : modules.values()) {
            m.setActive(Set.of(name));
        }
        applyTrainability();
    }

    /**
     * Runs the base model without adapters until the returned handle is closed (PEFT's {@code disable_adapter()}).
     * Merged adapters are unmerged first, since they cannot be switched off otherwise.
     *
     * @return a handle whose {@code close()} re-enables the adapters
     */
    public synchronized DisabledAdapters disableAdapters() {
        checkOpen();
        if (isMerged()) {
            unmerge();
        }
        setDisabled(true);
        return () -> {
            synchronized (this) {
                setDisabled(false);
            }
        };
    }

    private void setDisabled(boolean value) {
        disabled = value;
        modules.values().forEach(m -> m.setDisabled(value));
    }

    /**
     * Deletes an adapter and frees its arrays; modules left without adapters are unwrapped. Deleting the active adapter
     * activates the first remaining one.
     *
     * @param name the adapter name
     * @throws IllegalStateException if it is the only adapter (use {@link #unload()})
     */
    public synchronized void deleteAdapter(String name) {
        checkOpen();
        requireAdapter(name);
        if (configs.size() == 1) {
            throw new IllegalStateException(
                    "Cannot delete '" + name + "', the only adapter; use unload() to get the " + "plain model back");
        }
        AdapterWiring.remove(root, modules, name);
        configs.remove(name);
        if (name.equals(activeAdapter)) {
            setAdapter(configs.keySet().iterator().next());
        } else {
            applyTrainability();
        }
    }

    /**
     * Merges adapters into the base weights ({@code W += ΔW}, computed in float32). With no names, merges the active
     * adapter.
     *
     * @param names adapter names
     * @throws IllegalStateException if an adapter is already merged, or an update is not finite; nothing is merged
     *     then (modules merged before the failing one are restored, to float32 rounding)
     */
    public synchronized void merge(String... names) {
        checkOpen();
        List<String> list = names.length == 0 ? List.of(activeAdapter) : List.of(names);
        list.forEach(this::requireAdapter);
        Merges.merge(modules.values(), list);
    }

    /** Subtracts every merged adapter from the base weights again, last merged first. */
    public synchronized void unmerge() {
        checkOpen();
        if (!isMerged()) {
            LOG.warn("No adapter is merged; nothing to unmerge");
            return;
        }
        Merges.unmergeAll(modules.values());
    }

    /**
     * Tells whether any adapter is merged into the base weights.
     *
     * @return true if a merge is in effect
     */
    public synchronized boolean isMerged() {
        return modules.values().stream().anyMatch(m -> !m.mergedAdapters().isEmpty());
    }

    /**
     * Merges the active adapter (unless already merged) and returns the plain model with the merged weights
     * (PEFT's {@code merge_and_unload}). This handle cannot be used afterwards.
     *
     * @return the root block, now without adapters
     */
    public synchronized Block mergeAndUnload() {
        checkOpen();
        boolean activeMerged =
                modules.values().stream().anyMatch(m -> m.mergedAdapters().contains(activeAdapter));
        if (!activeMerged) {
            merge(activeAdapter);
        }
        return removeWrappers();
    }

    /**
     * Unmerges everything and returns the plain original model (PEFT's {@code unload}). This handle cannot be used
     * afterwards.
     *
     * @return the root block, now without adapters
     */
    public synchronized Block unload() {
        checkOpen();
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

    /**
     * Replaces an adapter, in every module, by its exact plain-LoRA form ({@link LoraForm}): SoRA keeps only its live
     * gates (pruning), DeLoRA folds its normalisation and λ into the factors, LoRA-XS multiplies R into B. Outputs are
     * unchanged; targets and input dropout are kept; the adapter can then be saved for, or merged like, any PEFT LoRA.
     * On failure the model is unchanged.
     *
     * @param name the adapter name
     * @return the new config and the rank and size of every module before and after
     * @throws IllegalStateException if the adapter is merged
     */
    public synchronized LoraConversion convertToLora(String name) {
        checkOpen();
        requireAdapter(name);
        return LoraConversion.convert(this, name);
    }

    // conversion (LoraConversion): replace one module's adapter, closing the old one; then record the new config
    void replaceAdapter(String module, String name, LinearAdapter adapter) {
        AdaptedLinear m = modules.get(module);
        close(m.removeAdapter(name));
        m.addAdapter(name, adapter);
        m.setActive(Set.of(activeAdapter));
    }

    void replaceConfig(String name, AdapterConfig config) {
        configs.put(name, config);
        applyTrainability();
    }

    /**
     * Switches inference mode (PEFT's {@code inference_mode}, which {@code PeftModel.from_pretrained} sets unless
     * {@code is_trainable=True}): in it every parameter is frozen, adapters and {@code modules_to_save} included;
     * out of it the active adapter and the modules to save train. Loading a saved adapter turns it on by default.
     *
     * @param on true to freeze everything
     */
    public synchronized void setInferenceMode(boolean on) {
        checkOpen();
        inferenceMode = on;
        applyTrainability();
    }

    /**
     * Tells whether every parameter is frozen ({@link #setInferenceMode}).
     *
     * @return true in inference mode
     */
    public synchronized boolean isInferenceMode() {
        return inferenceMode;
    }

    /**
     * Freezes every parameter except the active adapter's and those of {@code modules_to_save}. Injection does this;
     * call it again after anything that unfreezes parameters (DJL's {@code Model.newTrainer} on a loaded model).
     */
    public synchronized void applyTrainability() {
        checkOpen();
        AdapterWiring.apply(
                root,
                modules.values(),
                inferenceMode ? null : activeAdapter,
                configs.get(activeAdapter).targets());
    }

    /**
     * Returns the parameters of the active adapter's {@code modules_to_save}, keyed by state-dict name.
     *
     * @return parameter key to parameter
     */
    public synchronized Map<String, Parameter> modulesToSaveParameters() {
        return AdapterWiring.modulesToSave(root, configs.get(activeAdapter).targets());
    }

    /**
     * Prints {@link ParameterCounts#of(AdaptedModel)} to standard output, as PEFT's
     * {@code print_trainable_parameters}.
     */
    public synchronized void printTrainableParameters() {
        System.out.println(ParameterCounts.of(this)); // NOPMD - this is the method's purpose
    }

    private static void requireNoAdapters(Block root) {
        for (BlockTree.Node node : BlockTree.nodes(root).values()) {
            if (node.block() instanceof AdaptedLinear) {
                throw new IllegalStateException("The model already has adapters (module '" + node.path()
                        + "'); add or load more through the AdaptedModel that holds them");
            }
        }
    }

    private void requireAdapter(String name) {
        if (!configs.containsKey(name)) {
            throw new IllegalArgumentException("No adapter named '" + name + "'; adapters: " + configs.keySet());
        }
    }

    private void checkOpen() {
        if (unloaded) {
            throw new IllegalStateException("The adapters were unloaded; this AdaptedModel can no longer be used");
        }
    }

    private static void close(LinearAdapter adapter) {
        adapter.close();
    }
}
