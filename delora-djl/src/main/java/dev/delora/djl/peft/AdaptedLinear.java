package dev.delora.djl.peft;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.ParameterList;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.delora.core.FrozenLinear;
import dev.delora.core.LinearAdapter;
import dev.delora.core.LoraFactors;
import dev.delora.core.WeightUpdate;
import dev.delora.core.array.ArrayOps;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A {@link Linear} with adapters: {@code y = W x + b + Σ_{active, unmerged} ΔWₖ x}, for an input {@code [..., in]}
 * and output {@code [..., out]}. Given the forward parameter {@link AdaptedModel#ADAPTER_NAMES} (a mixed-adapter batch,
 * input {@code [rows, ..., in]}), row {@code i} instead gets {@code W x + b + ΔW_{names[i]} x} (see
 * {@link AdaptedModel#adapterNames(String...)}).
 *
 * <p>It extends {@code Linear} so that it fits the fields that built-in blocks type as {@code Linear}, and it shares
 * the
 * original block's {@code weight} and {@code bias} {@link Parameter} objects (same names), so merging writes straight
 * into the original and unloading just puts the original block back. Adapter parameters are registered under PEFT's
 * in-memory names ({@code lora_A.default.weight}, {@code delora_lambda.default}).
 *
 * <p>Adapters compute in float32; a half-precision base is cast at the boundary.
 */
public final class AdaptedLinear extends Linear {

    private final Linear base;
    private final Parameter weight;
    private final Parameter bias;
    private final long units;
    // Copy-on-write state: AdaptedModel changes it under its lock; forward passes on other threads read a consistent
    // snapshot without locking.
    private volatile Map<String, LinearAdapter> adapters = Map.of();
    private volatile List<String> active = List.of();
    // the active adapters as the model set them, names this module lacks included (PEFT's layer active_adapters)
    private volatile List<String> activeNames = List.of();
    private volatile List<String> merged = List.of();
    private volatile boolean disabled;
    // the owning model's per-thread mixed-batch names (AdaptedModel#useAdapterNames), or null
    private volatile ThreadLocal<List<String>> scopedRowNames;
    // the exact update each merge applied, so unmerge undoes what was done even if the adapter changed since
    private final Map<String, WeightUpdate> mergedUpdates = new HashMap<>();

    /**
     * Wraps an initialised {@code Linear}.
     *
     * @param base the original block; its parameters are shared, not copied
     * @throws IllegalArgumentException if the block has no initialised weight
     */
    public AdaptedLinear(Linear base) {
        super(Linear.builder()
                .setUnits(unitsOf(base))
                .optBias(base.getDirectParameters().contains("bias")));
        this.base = base;
        this.weight = base.getDirectParameters().get("weight");
        this.bias = base.getDirectParameters().get("bias");
        this.units = weight.getArray().getShape().get(0);
        parameters.clear(); // drop the fresh, never-initialised weight/bias that Linear's constructor registered
        parameters.put("weight", weight);
        if (bias != null) {
            parameters.put("bias", bias);
        }
        inputShapes = base.getInputShapes();
        outputDataTypes = base.getOutputDataTypes();
    }

    private static long unitsOf(Linear linear) {
        Parameter w = linear.getDirectParameters().get("weight");
        if (w == null || !w.isInitialized()) {
            throw new IllegalArgumentException("Linear block is not initialised; initialise the model (e.g. "
                    + "block.initialize(manager, DataType.FLOAT32, inputShape)) or load its weights before injecting");
        }
        return w.getArray().getShape().get(0);
    }

    /**
     * Returns the original block this one wraps.
     *
     * @return the plain {@code Linear}
     */
    public Linear base() {
        return base;
    }

    /**
     * Returns the frozen base weight {@code W [out, in]}.
     *
     * @return the weight parameter (shared with {@link #base()})
     */
    public Parameter weight() {
        return weight;
    }

    /**
     * Returns the adapters by name, in insertion order.
     *
     * @return an unmodifiable view
     */
    public Map<String, LinearAdapter> adapters() {
        return adapters;
    }

    /**
     * Returns the names of adapters currently merged into {@code W}, in merge order.
     *
     * @return an unmodifiable view
     */
    public List<String> mergedAdapters() {
        return merged;
    }

    void addAdapter(String name, LinearAdapter adapter) {
        if (adapters.containsKey(name)) {
            throw new IllegalStateException("Module already has an adapter named '" + name + "'");
        }
        checkFits(weight.getArray().getShape(), name, adapter);
        Map<String, LinearAdapter> next = new LinkedHashMap<>(adapters);
        next.put(name, adapter);
        adapters = Collections.unmodifiableMap(next);
        synchronized (parameters) {
            adapter.parameters().forEach((key, p) -> parameters.put(LinearAdapter.qualifiedName(key, name), p));
        }
    }

    /**
     * Checks that an adapter's update has the base weight's shape {@code [out, in]}.
     *
     * @throws IllegalArgumentException naming the shapes
     */
    static void checkFits(Shape w, String name, LinearAdapter adapter) {
        Shape fits = adapter.updateShape();
        if (!fits.equals(w)) {
            throw new IllegalArgumentException(
                    "Adapter '" + name + "' updates a weight of shape " + fits + ", not the base weight " + w);
        }
    }

    LinearAdapter removeAdapter(String name) {
        LinearAdapter adapter = adapters.get(name);
        if (adapter != null) {
            Map<String, LinearAdapter> next = new LinkedHashMap<>(adapters);
            next.remove(name);
            adapters = Collections.unmodifiableMap(next);
            active = active.stream().filter(n -> !n.equals(name)).toList();
            activeNames = activeNames.stream().filter(n -> !n.equals(name)).toList();
            // removed while merged (merge-and-unload): the weight keeps the update, the kept factors go
            merged = merged.stream().filter(n -> !n.equals(name)).toList();
            WeightUpdate kept = mergedUpdates.remove(name);
            if (kept != null) {
                kept.close();
            }
            synchronized (parameters) {
                adapter.parameters().keySet().forEach(key -> parameters.remove(LinearAdapter.qualifiedName(key, name)));
            }
        }
        return adapter;
    }

    /** Activates the named adapters this module has, in the given order (their updates are summed in it). */
    void setActive(List<String> names) {
        Map<String, LinearAdapter> snapshot = adapters;
        activeNames = List.copyOf(names);
        active = names.stream().filter(snapshot::containsKey).toList();
    }

    /** The active adapters as last set ({@link #setActive}), also those this module lacks (PEFT's layer list). */
    List<String> activeNames() {
        return activeNames;
    }

    /** Tells whether the adapters are switched off ({@link AdaptedModel#disableAdapters()}). */
    boolean isDisabled() {
        return disabled;
    }

    void bindRowNames(ThreadLocal<List<String>> names) {
        scopedRowNames = names;
    }

    void setDisabled(boolean disabled) {
        this.disabled = disabled;
    }

    /**
     * Merges an adapter into the base weight (its {@link LinearAdapter#weightUpdate}, in float32). The merged weight
     * is computed and checked before it is written, so a refused merge leaves the weight bit-identical; the update is
     * kept for {@link #unmerge}.
     */
    void merge(String name) {
        if (merged.contains(name)) {
            throw new IllegalStateException("Adapter '" + name + "' is already merged; unmerge it first");
        }
        NDArray w = weight.getArray();
        WeightUpdate update;
        try (NDArray w32 = w.toType(DataType.FLOAT32, true)) {
            update = adapters.get(name).weightUpdate(w32);
            try (NDArray next = update.apply(w32);
                    NDArray cast = next.toType(w.getDataType(), false)) {
                if (!ArrayOps.allFinite(cast)) {
                    throw new IllegalStateException(
                            "Merging adapter '" + name + "' would put NaN/Inf into the weights (the sum overflows "
                                    + w.getDataType() + " or the update is not finite)");
                }
                ArrayOps.assign(w, cast);
            } catch (RuntimeException e) {
                update.close();
                throw e;
            }
        }
        mergedUpdates.put(name, update);
        List<String> next = new ArrayList<>(merged);
        next.add(name);
        merged = List.copyOf(next);
    }

    /**
     * Undoes exactly the update {@link #merge} applied (kept then), whatever changed since. An adapter merged before
     * others is taken out from under them: additive updates (plain LoRA form) are just subtracted; otherwise the
     * later ones are reverted, this one removed and the later ones applied again (their kept updates), so the weight
     * is as if this adapter had never been merged.
     */
    void unmerge(String name) {
        int at = merged.indexOf(name);
        if (at < 0) {
            throw new IllegalStateException("Adapter '" + name + "' is not merged");
        }
        List<String> later = List.copyOf(merged.subList(at + 1, merged.size()));
        boolean commutes = later.isEmpty()
                || mergedUpdates.get(name) instanceof LoraFactors
                        && later.stream().allMatch(n -> mergedUpdates.get(n) instanceof LoraFactors);
        NDArray w = weight.getArray();
        try (WeightUpdate update = mergedUpdates.remove(name);
                NDArray w32 = w.toType(DataType.FLOAT32, true);
                NDManager scope = w32.getManager().newSubManager()) {
            NDArray v = w32;
            v.tempAttach(scope);
            if (!commutes) {
                for (int i = later.size() - 1; i >= 0; i--) {
                    v = mergedUpdates.get(later.get(i)).revert(v);
                    v.attach(scope);
                }
            }
            v = update.revert(v);
            v.attach(scope);
            if (!commutes) {
                for (String n : later) {
                    v = mergedUpdates.get(n).apply(v);
                    v.attach(scope);
                }
            }
            try (NDArray cast = v.toType(w.getDataType(), false)) {
                ArrayOps.assign(w, cast);
            }
        }
        merged = merged.stream().filter(n -> !n.equals(name)).toList();
    }

    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore, NDList inputs, boolean training, PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();
        Device device = x.getDevice();
        NDArray w = parameterStore.getValue(weight, device, training);
        NDArray b = parameterStore.getValue(bias, device, training);
        NDArray y = linear(x, w, b).singletonOrThrow();
        // one snapshot of the copy-on-write state per call
        Map<String, LinearAdapter> adapterSnapshot = adapters;
        List<String> mergedSnapshot = merged;
        List<String> activeSnapshot = active;
        List<String> rowNames = MixedBatch.names(params);
        ThreadLocal<List<String>> scoped = scopedRowNames;
        if (rowNames == null && scoped != null) {
            rowNames = scoped.get();
        }
        if (rowNames != null) {
            MixedBatch.check(rowNames, x.getShape(), !mergedSnapshot.isEmpty(), training);
        }
        if (disabled) {
            return new NDList(y);
        }
        Function<Parameter, NDArray> values = p -> parameterStore.getValue(p, device, training);
        if (rowNames != null) {
            NDArray dy = MixedBatch.delta(
                    float32(x),
                    float32(w),
                    b == null ? null : float32(b),
                    float32(y),
                    rowNames,
                    adapterSnapshot,
                    values);
            return new NDList(dy == null ? y : y.add(cast(dy, y)));
        }
        NDArray x32 = null;
        FrozenLinear frozen = null;
        NDArray y0 = y;
        for (String name : activeSnapshot) {
            if (mergedSnapshot.contains(name) || !adapterSnapshot.containsKey(name)) {
                continue;
            }
            if (x32 == null) {
                x32 = float32(x);
                // the pure base output, before any adapter adds to it (a no-op cast for a float32 base)
                frozen = new FrozenLinear(float32(w), b == null ? null : float32(b), float32(y0));
            }
            y = y.add(cast(adapterSnapshot.get(name).forward(x32, frozen, values, training), y));
        }
        return new NDList(y);
    }

    private static NDArray cast(NDArray dy, NDArray like) {
        return dy.getDataType() == like.getDataType() ? dy : dy.toType(like.getDataType(), false);
    }

    private static NDArray float32(NDArray a) {
        return a.getDataType() == DataType.FLOAT32 ? a : a.toType(DataType.FLOAT32, false);
    }

    /**
     * Returns the weight, bias and every adapter's parameters, as a snapshot: adapters may be added on another thread
     * (DJL iterates this map whenever a forward pass checks {@code isInitialized()}).
     */
    @Override
    public ParameterList getDirectParameters() {
        synchronized (parameters) {
            return super.getDirectParameters();
        }
    }

    @Override
    public PairList<String, Shape> describeInput() {
        return base.describeInput();
    }

    @Override
    public void prepare(Shape[] inputShapes) {
        // every parameter already holds an array: nothing to shape
    }

    @Override
    protected void saveMetadata(DataOutputStream os) throws IOException {
        os.writeLong(units);
        os.writeLong(weight.getArray().getShape().get(1));
        os.write(base.describeInput().get(0).getValue().getEncoded());
    }
}
