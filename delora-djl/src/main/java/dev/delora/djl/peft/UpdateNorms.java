package dev.delora.djl.peft;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import dev.delora.core.LinearAdapter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Predicate;

/**
 * How far an adapter moves the base weights: per module {@code ‖W_eff − W‖_F}, with {@code W_eff} the weight the
 * module would have with the adapter merged (the robustness measure of the DeLoRA paper, Fig. 2 and 3). Methods with a
 * plain-LoRA form compute it from {@code k×k} Gram matrices of their factors, never the dense update; DoRA, whose
 * merge rescales rows, builds {@code W_eff} densely (one {@code [out, in]} temporary per module at a time).
 */
public final class UpdateNorms {

    private UpdateNorms() {}

    /**
     * Computes {@code ‖W_eff − W‖_F} of every module the adapter adapts.
     *
     * @param model the model
     * @param adapterName the adapter; it must not be merged (the weight would no longer be {@code W})
     * @param modules which module paths to include
     * @return module path to norm, in module order
     * @throws IllegalArgumentException if there is no such adapter
     * @throws IllegalStateException if the adapter is merged in a module
     */
    public static Map<String, Double> of(AdaptedModel model, String adapterName, Predicate<String> modules) {
        Map<String, Double> out = new LinkedHashMap<>();
        synchronized (model) {
            requireAdapter(model, adapterName);
            for (Map.Entry<String, AdaptedLinear> e : model.adaptedModules().entrySet()) {
                AdaptedLinear m = e.getValue();
                LinearAdapter a = m.adapters().get(adapterName);
                if (a == null || !modules.test(e.getKey())) {
                    continue;
                }
                if (m.mergedAdapters().contains(adapterName)) {
                    throw new IllegalStateException(
                            "Adapter '" + adapterName + "' is merged into " + e.getKey() + "; unmerge it first");
                }
                NDArray w = m.weight().getArray();
                try (NDArray w32 = w.toType(DataType.FLOAT32, true)) {
                    out.put(e.getKey(), a.updateNorm(w32));
                }
            }
        }
        return out;
    }

    /**
     * Returns the adapter's one-element parameters per module (e.g. DeLoRA's {@code delora_lambda}): the scalars a
     * method learns alongside its factors.
     *
     * @param model the model
     * @param adapterName the adapter
     * @param modules which module paths to include
     * @return module path to (parameter key to value), only modules that have such parameters
     */
    public static Map<String, Map<String, Double>> scalars(
            AdaptedModel model, String adapterName, Predicate<String> modules) {
        Map<String, Map<String, Double>> out = new LinkedHashMap<>();
        synchronized (model) {
            requireAdapter(model, adapterName);
            model.adaptedModules().forEach((path, m) -> {
                LinearAdapter a = m.adapters().get(adapterName);
                if (a == null || !modules.test(path)) {
                    return;
                }
                Map<String, Double> values = new LinkedHashMap<>();
                for (Map.Entry<String, Parameter> p : a.parameters().entrySet()) {
                    NDArray v = p.getValue().getArray();
                    if (v.size() == 1) {
                        try (NDArray d = v.toType(DataType.FLOAT64, true)) {
                            values.put(p.getKey(), d.getDouble());
                        }
                    }
                }
                if (!values.isEmpty()) {
                    out.put(path, values);
                }
            });
        }
        return out;
    }

    /**
     * Combines per-module norms into the norm of all adapted weights taken together, {@code √(Σ dᵢ²)}.
     *
     * @param norms per-module norms
     * @return the total
     */
    public static double total(Map<String, Double> norms) {
        double sum = 0;
        for (double d : norms.values()) {
            sum += d * d;
        }
        return Math.sqrt(sum);
    }

    private static void requireAdapter(AdaptedModel model, String adapterName) {
        if (!model.adapters().containsKey(adapterName)) {
            throw new IllegalArgumentException("No adapter named '" + adapterName + "'; adapters: "
                    + model.adapters().keySet());
        }
    }
}
