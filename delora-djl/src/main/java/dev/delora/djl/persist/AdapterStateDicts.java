package dev.delora.djl.persist;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.core.array.ArrayOps;
import dev.delora.djl.peft.AdaptedLinear;
import dev.delora.djl.peft.AdaptedModel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * An adapter's state dict in memory, as PEFT's {@code get_peft_model_state_dict} / {@code set_peft_model_state_dict}:
 * exactly the tensors {@link PeftAdapters#save} writes to {@code adapter_model.safetensors}, under the same keys
 * ({@code base_model.model.<module>.lora_A.weight}, buffers such as {@code delora_w_norm}, and the parameters of
 * {@code modules_to_save}, the task head included when the model is a {@link dev.delora.djl.peft.PeftTaskModel}).
 *
 * <p>Unlike PEFT's setter, which loads non-strictly and reports missing and unexpected keys, {@link #set} is strict
 * and all-or-nothing: every key, shape, dtype and value is checked before anything is written.
 */
public final class AdapterStateDicts {

    private AdapterStateDicts() {}

    /**
     * Returns copies of an adapter's tensors keyed as in its saved file ({@link PeftAdapters.Metadata#infer} decides
     * whether the task head belongs to it, as for {@link PeftAdapters#save(AdaptedModel, String, java.nio.file.Path)}).
     *
     * @param model the model
     * @param adapterName the adapter
     * @param manager the manager that owns the returned copies (close it, or the arrays, when done)
     * @return key to a new array, in the saved file's order
     * @throws IllegalArgumentException if there is no such adapter
     */
    public static Map<String, NDArray> get(AdaptedModel model, String adapterName, NDManager manager) {
        return get(model, adapterName, PeftAdapters.Metadata.infer(model.block()), manager);
    }

    /**
     * Returns copies of an adapter's tensors as {@link PeftAdapters#save} with this metadata would write them.
     *
     * @param model the model
     * @param adapterName the adapter
     * @param metadata its task type decides whether the task head belongs to the state dict
     * @param manager the manager that owns the returned copies
     * @return key to a new array
     */
    public static Map<String, NDArray> get(
            AdaptedModel model, String adapterName, PeftAdapters.Metadata metadata, NDManager manager) {
        Map<String, NDArray> out = new LinkedHashMap<>();
        live(model, adapterName, metadata).forEach((k, v) -> {
            NDArray copy = ArrayOps.ownedCopy(v);
            copy.attach(manager);
            out.put(k, copy);
        });
        return out;
    }

    /**
     * Overwrites an existing adapter's tensors (and its {@code modules_to_save}) from a state dict keyed as
     * {@link #get} returns it. Strict and all-or-nothing: the keys must be exactly {@link #get}'s, each tensor of the
     * same shape, floating point and finite; all are checked before any is written, and if the engine fails half-way
     * the values written so far are put back. Arrays are converted to each target's dtype and device.
     *
     * @param model the model
     * @param adapterName the adapter
     * @param stateDict key to values (not modified, not kept)
     * @throws IllegalArgumentException naming the key, what was found and what was expected
     */
    public static void set(AdaptedModel model, String adapterName, Map<String, NDArray> stateDict) {
        set(model, adapterName, PeftAdapters.Metadata.infer(model.block()), stateDict);
    }

    /**
     * Overwrites an adapter's tensors with the key set that this metadata implies (see {@link #set(AdaptedModel,
     * String, Map)}).
     *
     * @param model the model
     * @param adapterName the adapter
     * @param metadata its task type decides whether the task head belongs to the state dict
     * @param stateDict key to values
     */
    public static void set(
            AdaptedModel model, String adapterName, PeftAdapters.Metadata metadata, Map<String, NDArray> stateDict) {
        Map<String, NDArray> targets = live(model, adapterName, metadata);
        List<String> missing =
                targets.keySet().stream().filter(k -> !stateDict.containsKey(k)).toList();
        List<String> unexpected = stateDict.keySet().stream()
                .filter(k -> !targets.containsKey(k))
                .sorted()
                .toList();
        if (!missing.isEmpty() || !unexpected.isEmpty()) {
            throw new IllegalArgumentException("State dict does not fit adapter '" + adapterName + "': "
                    + (missing.isEmpty() ? "" : "missing keys " + missing + "; ")
                    + (unexpected.isEmpty() ? "" : "unexpected keys " + unexpected + "; ")
                    + "expected exactly " + targets.keySet());
        }
        for (Map.Entry<String, NDArray> e : targets.entrySet()) {
            NDArray v = stateDict.get(e.getKey());
            if (v == null) {
                throw new IllegalArgumentException("State dict key '" + e.getKey() + "' maps to null");
            }
            if (!v.getShape().equals(e.getValue().getShape())) {
                throw new IllegalArgumentException(
                        "State dict key '" + e.getKey() + "' has shape " + v.getShape() + " but adapter '" + adapterName
                                + "' expects " + e.getValue().getShape());
            }
            if (!v.getDataType().isFloating()) {
                throw new IllegalArgumentException("State dict key '" + e.getKey() + "' has dtype "
                        + v.getDataType() + "; expected a floating-point tensor (like "
                        + e.getValue().getDataType()
                        + ")");
            }
            if (!ArrayOps.allFinite(v)) {
                throw new IllegalArgumentException("State dict key '" + e.getKey() + "' contains NaN or Inf");
            }
        }
        writeAll(targets, stateDict);
    }

    /** Writes every value, putting the old ones back if the engine fails half-way. */
    private static void writeAll(Map<String, NDArray> targets, Map<String, NDArray> values) {
        List<NDArray[]> saved = new ArrayList<>(); // {target, its old values}
        try {
            for (Map.Entry<String, NDArray> e : targets.entrySet()) {
                NDArray target = e.getValue();
                saved.add(new NDArray[] {target, target.duplicate()});
                NDArray v = values.get(e.getKey());
                NDArray moved = v.toDevice(target.getDevice(), false);
                NDArray cast = moved.toType(target.getDataType(), false);
                try {
                    ArrayOps.assign(target, cast);
                } finally {
                    if (cast != moved) {
                        cast.close();
                    }
                    if (moved != v) {
                        moved.close();
                    }
                }
            }
        } catch (RuntimeException ex) {
            saved.forEach(pair -> ArrayOps.assign(pair[0], pair[1]));
            throw ex;
        } finally {
            saved.forEach(pair -> pair[1].close());
        }
    }

    /**
     * The live arrays of an adapter's state dict (no copies): what {@link PeftAdapters#save} writes.
     *
     * @throws IllegalArgumentException if there is no such adapter
     */
    static Map<String, NDArray> live(AdaptedModel model, String adapterName, PeftAdapters.Metadata metadata) {
        AdapterConfig config = requireAdapter(model, adapterName);
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, AdaptedLinear> e : model.adaptedModules().entrySet()) {
            LinearAdapter a = e.getValue().adapters().get(adapterName);
            if (a != null) {
                a.parameters().forEach((k, p) -> tensors.put(PeftAdapters.PREFIX + e.getKey() + "." + k, p.getArray()));
                a.buffers().forEach((k, v) -> tensors.put(PeftAdapters.PREFIX + e.getKey() + "." + k, v));
            }
        }
        if (!tensors.isEmpty()) {
            headArrays(model.block(), config, metadata, tensors::put);
        }
        return tensors;
    }

    /** The modules_to_save parameters that go with an adapter, keyed as saved. */
    static void headArrays(
            Block root, AdapterConfig config, PeftAdapters.Metadata metadata, BiConsumer<String, NDArray> sink) {
        List<String> modulesToSave = ModulesToSave.saved(root, config, metadata.taskType());
        for (Map.Entry<String, Parameter> e :
                ModulesToSave.parameters(root, modulesToSave).entrySet()) {
            sink.accept(PeftAdapters.PREFIX + e.getKey(), e.getValue().getArray());
        }
    }

    static AdapterConfig requireAdapter(AdaptedModel model, String name) {
        AdapterConfig config = model.adapters().get(name);
        if (config == null) {
            throw new IllegalArgumentException("No adapter named '" + name + "'; adapters: "
                    + model.adapters().keySet());
        }
        return config;
    }
}
