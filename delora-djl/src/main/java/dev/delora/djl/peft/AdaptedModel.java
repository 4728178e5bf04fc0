package dev.delora.djl.peft;

import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.PairList;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.djl.tree.BlockTree;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The handle on a DJL model with adapters, like PEFT's {@code PeftModel}: adapters by name, the active ones,
 * merge/unmerge, unload, inference mode and mixed-adapter batches. Injection finds {@code Linear} blocks by PEFT-style
 * dotted paths ({@link BlockTree}), swaps in an {@link AdaptedLinear} wherever the tree refers to the original and
 * freezes every parameter that is neither an active adapter's nor in {@code modules_to_save}. Every operation validates
 * first and changes the model only when it can complete.
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

    /** The forward-parameter key of a mixed-adapter batch's per-row adapter names (PEFT's {@code adapter_names}). */
    public static final String ADAPTER_NAMES = "adapter_names";

    /** The per-row name for "no adapter" in a mixed-adapter batch: the base model's output (PEFT's). */
    public static final String NO_ADAPTER = "__base__";

    private final AdapterState state;

    private AdaptedModel(Block root) {
        this.state = new AdapterState(root);
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
        AdapterWiring.requireNoAdapters(root);
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
        return state.root;
    }

    /**
     * Returns the adapted modules by dotted path.
     *
     * @return an unmodifiable view
     */
    public synchronized Map<String, AdaptedLinear> adaptedModules() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(state.modules));
    }

    /**
     * Returns the adapter configs by adapter name.
     *
     * @return an unmodifiable view
     */
    public synchronized Map<String, AdapterConfig> adapters() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(state.configs));
    }

    /**
     * Returns the active adapter's name; with several active (PEFT's list), the first of {@link #activeAdapters()}.
     *
     * @return the name
     * @throws IllegalStateException if the model has no adapter left ({@link #deleteAdapter} of the last one)
     */
    public synchronized String activeAdapter() {
        if (state.active.isEmpty()) {
            throw new IllegalStateException("The model has no adapter left (all were deleted); add or load one");
        }
        return state.active.get(0);
    }

    /**
     * Returns the active adapters (PEFT's {@code active_adapters}), in the order their updates are summed.
     *
     * @return an unmodifiable list; empty when the model has no adapter left
     */
    public synchronized List<String> activeAdapters() {
        return state.active;
    }

    /**
     * Adds another adapter (PEFT's {@code add_adapter}); it is not made active.
     *
     * @param name a new adapter name
     * @param config its config
     * @throws IllegalArgumentException if the name is taken or the targets are invalid; the model is unchanged then
     */
    public synchronized void addAdapter(String name, AdapterConfig config) {
        state.checkOpen();
        state.add(name, config);
    }

    /**
     * Adds an adapter whose per-module {@link LinearAdapter}s the caller built (e.g. restored from a file); it is not
     * made active. The adapters must cover exactly the modules the config targets
     * ({@link dev.delora.djl.tree.TargetModules#select}) and are owned by the model from then on. On failure they are
     * closed and the model is unchanged.
     *
     * @param name a new adapter name
     * @param config its config
     * @param restored module path to that module's adapter
     */
    public synchronized void addAdapter(String name, AdapterConfig config, Map<String, LinearAdapter> restored) {
        state.add(name, config, restored);
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
            AdapterWiring.requireNoAdapters(root);
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
     * @throws IllegalArgumentException if there is no such adapter
     */
    public synchronized void setAdapter(String name) {
        setAdapters(List.of(name));
    }

    /**
     * Makes several adapters active at once (PEFT's {@code model.base_model.set_adapter([...])}): each adapted module
     * outputs {@code W x + b + Σ ΔWₖ x} over the active adapters it has, summed in this order, and all their
     * parameters train ({@link #applyTrainability()}). Merged adapters are unmerged first.
     *
     * @param names one or more adapter names, each once
     * @throws IllegalArgumentException if the list is empty, names an adapter twice or one this model does not have;
     *     the active adapters are unchanged then
     */
    public synchronized void setAdapters(List<String> names) {
        state.checkOpen();
        state.setActive(names);
    }

    /**
     * Returns the forward parameters of a mixed-adapter batch (PEFT's {@code model(**inputs, adapter_names=...)}):
     * pass them to {@code block().forward(ps, inputs, false, params)} and row {@code i} of the batch (the leading
     * dimension of every adapted module's input, {@code [rows, ..., in]}) goes through adapter {@code perRow[i]}, or
     * through none for {@value #NO_ADAPTER}, whatever adapters are active. Inference only, unmerged, as in PEFT.
     *
     * @param perRow one adapter name per row
     * @return a {@link PairList} holding {@value #ADAPTER_NAMES} to the names
     * @throws IllegalArgumentException if a name is neither an adapter of this model nor {@value #NO_ADAPTER}
     * @throws IllegalStateException if an adapter is merged (a forward pass refuses then too, and when its row count
     *     differs from the names' or it is a training pass)
     */
    public synchronized PairList<String, Object> adapterNames(String... perRow) {
        return adapterNames(List.of(perRow));
    }

    /**
     * Returns the forward parameters of a mixed-adapter batch; see {@link #adapterNames(String...)}.
     *
     * @param perRow one adapter name per row
     * @return a {@link PairList} holding {@value #ADAPTER_NAMES} to the names
     */
    public synchronized PairList<String, Object> adapterNames(List<String> perRow) {
        state.checkOpen();
        return MixedBatch.params(perRow, state.configs.keySet(), state.isMerged());
    }

    /**
     * Makes every forward pass on this thread a mixed-adapter batch (see {@link #adapterNames(String...)}) until the
     * returned handle is closed: for block trees whose containers do not pass forward parameters on to their children
     * (DJL's {@code SequentialBlock} calls {@code forward(ps, inputs, training)}), as PEFT's forward hooks.
     * Parameters given to a forward pass take precedence. Other threads are not affected; close the handle on this
     * thread (try-with-resources). Greedy generation keeps the rows at every step, so it becomes per-row too.
     *
     * @param perRow one adapter name per row
     * @return a handle whose {@code close()} ends it on this thread
     * @throws IllegalArgumentException if a name is neither an adapter of this model nor {@value #NO_ADAPTER}
     * @throws IllegalStateException if an adapter is merged
     */
    public synchronized MixedBatchScope useAdapterNames(List<String> perRow) {
        state.checkOpen();
        return state.useAdapterNames(perRow);
    }

    /**
     * Runs the base model without adapters until the returned handle is closed (PEFT's {@code disable_adapter()}).
     * Merged adapters are unmerged first, since they cannot be switched off otherwise.
     *
     * @return a handle whose {@code close()} re-enables the adapters
     */
    public synchronized DisabledAdapters disableAdapters() {
        state.checkOpen();
        if (state.isMerged()) {
            state.unmerge();
        }
        state.setDisabled(true);
        return () -> {
            synchronized (this) {
                state.setDisabled(false);
            }
        };
    }

    /**
     * Deletes an adapter and frees its arrays (unmerging it first if merged); modules left without adapters are
     * unwrapped. Deleting an active adapter leaves the other active ones active or, if none, activates the first
     * remaining adapter. Deleting the last adapter is allowed, as in PEFT: the model then computes the base output,
     * {@link #activeAdapters()} is empty, {@link #activeAdapter()} and {@link #merge} throw, and {@link #addAdapter}
     * starts over.
     *
     * @param name the adapter name
     * @throws IllegalArgumentException if there is no such adapter
     */
    public synchronized void deleteAdapter(String name) {
        state.checkOpen();
        state.delete(name);
    }

    /**
     * Merges adapters into the base weights ({@code W += ΔW}, computed in float32). With no names, merges the active
     * adapters (all of them, as PEFT).
     *
     * @param names adapter names
     * @throws IllegalStateException if an adapter is already merged, an update is not finite, or no name is given and
     *     the model has no adapter; nothing is merged then (modules merged before the failing one are restored, to
     *     float32 rounding)
     */
    public synchronized void merge(String... names) {
        state.checkOpen();
        state.merge(names);
    }

    /**
     * Subtracts the named merged adapters from the base weights again, exactly what their merge added; the others
     * stay merged. With no names, unmerges every merged adapter, last merged first.
     *
     * @param names adapter names
     * @throws IllegalArgumentException if there is no such adapter
     * @throws IllegalStateException if a named adapter is not merged; nothing is unmerged then
     */
    public synchronized void unmerge(String... names) {
        state.checkOpen();
        state.unmerge(names);
    }

    /**
     * Tells whether any adapter is merged into the base weights.
     *
     * @return true if a merge is in effect
     */
    public synchronized boolean isMerged() {
        return state.isMerged();
    }

    /**
     * Merges the active adapters (those not merged yet) and returns the plain model with the merged weights
     * (PEFT's {@code merge_and_unload}). This handle cannot be used afterwards.
     *
     * @return the root block, now without adapters
     */
    public synchronized Block mergeAndUnload() {
        state.checkOpen();
        return state.mergeAndUnload();
    }

    /**
     * Unmerges everything and returns the plain original model (PEFT's {@code unload}). This handle cannot be used
     * afterwards.
     *
     * @return the root block, now without adapters
     */
    public synchronized Block unload() {
        state.checkOpen();
        return state.unload();
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
        state.checkOpen();
        state.requireAdapter(name);
        return LoraConversion.convert(this, name);
    }

    // conversion (LoraConversion): replace one module's adapter, closing the old one; then record the new config
    void replaceAdapter(String module, String name, LinearAdapter adapter) {
        state.replaceAdapter(module, name, adapter);
    }

    void replaceConfig(String name, AdapterConfig config) {
        state.configs.put(name, config);
        state.applyTrainability();
    }

    /**
     * Switches inference mode (PEFT's {@code inference_mode}, which {@code PeftModel.from_pretrained} sets unless
     * {@code is_trainable=True}): in it every parameter is frozen, adapters and {@code modules_to_save} included;
     * out of it the active adapters and their modules to save train. Loading a saved adapter turns it on by default.
     *
     * @param on true to freeze everything
     */
    public synchronized void setInferenceMode(boolean on) {
        state.checkOpen();
        state.inferenceMode = on;
        state.applyTrainability();
    }

    /**
     * Tells whether every parameter is frozen ({@link #setInferenceMode}).
     *
     * @return true in inference mode
     */
    public synchronized boolean isInferenceMode() {
        return state.inferenceMode;
    }

    /**
     * Freezes every parameter except the active adapters' and those of their {@code modules_to_save} (PEFT's
     * {@code set_adapter}); with no adapter left, every parameter. Injection does this; call it again after anything
     * that unfreezes parameters (DJL's {@code Model.newTrainer} on a loaded model).
     */
    public synchronized void applyTrainability() {
        state.checkOpen();
        state.applyTrainability();
    }

    /**
     * Returns the parameters of the active adapters' {@code modules_to_save}, keyed by state-dict name.
     *
     * @return parameter key to parameter; empty with no adapter left
     */
    public synchronized Map<String, Parameter> modulesToSaveParameters() {
        return state.modulesToSave();
    }

    /**
     * Prints {@link ParameterCounts#of(AdaptedModel)} to standard output, as PEFT's
     * {@code print_trainable_parameters}.
     */
    public synchronized void printTrainableParameters() {
        System.out.println(ParameterCounts.of(this)); // NOPMD - this is the method's purpose
    }
}
