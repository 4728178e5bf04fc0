package dev.delora.djl.peft;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.core.method.AdapterMethods;
import dev.delora.djl.tree.BlockTree;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The adapter status of a model, PEFT's {@code get_layer_status()} ({@link #layers}) and {@code get_model_status()}
 * ({@link #model}): per adapted module its active, merged and available adapters, whether they are enabled, whether
 * each adapter's parameters train and where they live; for the model the same aggregated over the modules, with
 * {@link Uniform#irregular()} (PEFT's {@code "irregular"}) wherever the modules disagree, which means the model is in
 * an inconsistent state. Field names are PEFT's in camelCase.
 *
 * <p>Where the values differ from PEFT's by design:
 *
 * <ul>
 *   <li>{@code name}: the module's dotted path from the root block (as in {@link AdaptedModel#adaptedModules()});
 *       PEFT's names start with {@code model.} (they are relative to its {@code LoraModel}).
 *   <li>{@code moduleType}: the module's adapter methods ({@code AdapterMethod.name()}, e.g. {@code lora},
 *       {@code delora}; several joined by {@code +} in adapter order) followed by {@code .Linear}. PEFT prints its
 *       layer class: {@code lora.Linear} for LoRA and DoRA (here {@code dora.Linear}), {@code delora.DeloraLinear}.
 *   <li>{@code baseModelType}: the root block's simple class name; {@code adapterModelType}: the adapters' method
 *       names ({@code lora}, several joined by {@code +}) instead of PEFT's tuner class ({@code LoraModel}).
 *   <li>{@code devices}: DJL device types ({@link ai.djl.Device#getDeviceType()}): {@code cpu} as in PEFT, but
 *       {@code gpu} where PEFT says {@code cuda}.
 *   <li>{@code modules_to_save} are trained in place, not wrapped, so they are not listed as layers (PEFT lists each
 *       {@code ModulesToSaveWrapper}); PEFT's {@code quantization_backend} has no counterpart.
 *   <li>While {@link AdaptedModel#disableAdapters()} is in effect, {@code requiresGrad} and {@code trainableParams}
 *       report the parameters as they are: disabling leaves trainability alone, whereas PEFT's
 *       {@code disable_adapter()} also freezes every adapter (and unfreezes the active ones again on exit, even in
 *       inference mode). Disabling also unmerges at once; PEFT unmerges at the next forward pass.
 * </ul>
 *
 * <p>Both methods read the model under its handle's lock (the {@link AdaptedModel}'s monitor, which all its methods
 * hold), so the status is a consistent snapshot even while other threads change the adapters. Every returned list
 * and map is unmodifiable.
 */
public final class AdapterStatus {

    /** PEFT's marker for values the modules (or one module's parameters) disagree on. */
    public static final String IRREGULAR = "irregular";

    private AdapterStatus() {}

    /**
     * A value every adapted module agrees on, or {@link #irregular()}: PEFT's {@code T | Literal["irregular"]}.
     *
     * @param <T> the value type ({@code Boolean} or {@code List<String>})
     */
    public static final class Uniform<T> {

        private static final Uniform<Object> IRREGULAR_VALUE = new Uniform<>(null);

        private final T value;

        private Uniform(T value) {
            this.value = value;
        }

        /**
         * Returns a value all modules agree on.
         *
         * @param <T> the value type
         * @param value the value, not null
         * @return the uniform value
         */
        public static <T> Uniform<T> of(T value) {
            return new Uniform<>(Objects.requireNonNull(value, "value"));
        }

        /**
         * Returns PEFT's {@code "irregular"}: the modules (or parameters) disagree.
         *
         * @param <T> the value type
         * @return the irregular marker
         */
        @SuppressWarnings("unchecked")
        public static <T> Uniform<T> irregular() {
            return (Uniform<T>) IRREGULAR_VALUE;
        }

        /**
         * Tells whether the modules disagree.
         *
         * @return true for PEFT's {@code "irregular"}
         */
        public boolean isIrregular() {
            return value == null;
        }

        /**
         * Returns the value all modules agree on.
         *
         * @return the value
         * @throws IllegalStateException if it is irregular
         */
        public T value() {
            if (value == null) {
                throw new IllegalStateException("The adapted modules disagree (irregular); check the layer status");
            }
            return value;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Uniform<?> u && Objects.equals(value, u.value);
        }

        @Override
        public int hashCode() {
            return Objects.hashCode(value);
        }

        /**
         * Formats the value, or {@value AdapterStatus#IRREGULAR}.
         *
         * @return e.g. {@code true}, {@code [default]} or {@code irregular}
         */
        @Override
        public String toString() {
            return value == null ? IRREGULAR : value.toString();
        }
    }

    /**
     * The status of one adapted module, PEFT's {@code TunerLayerStatus}.
     *
     * @param name the module's dotted path, e.g. {@code roberta.encoder.layer.0.attention.self.query}
     * @param moduleType the adapter methods of the module, e.g. {@code lora.Linear} (see the class comment)
     * @param enabled false while {@link AdaptedModel#disableAdapters()} is in effect
     * @param activeAdapters the active adapters as set on the module, in summation order; as in PEFT, the model's
     *     list, including adapters this module does not have (it skips them)
     * @param mergedAdapters the adapters merged into this module's weight, in merge order
     * @param requiresGrad per adapter of this module (in the order they were added): true if all its parameters train,
     *     false if none does, irregular otherwise
     * @param availableAdapters the adapters this module has, sorted by name
     * @param devices per adapter of this module: the sorted device types of its parameters and buffers, e.g.
     *     {@code [cpu]}
     */
    public record LayerStatus(
            String name,
            String moduleType,
            boolean enabled,
            List<String> activeAdapters,
            List<String> mergedAdapters,
            Map<String, Uniform<Boolean>> requiresGrad,
            List<String> availableAdapters,
            Map<String, List<String>> devices) {

        /** Copies the lists and maps (keeping the maps' order). */
        public LayerStatus {
            activeAdapters = List.copyOf(activeAdapters);
            mergedAdapters = List.copyOf(mergedAdapters);
            requiresGrad = Collections.unmodifiableMap(new LinkedHashMap<>(requiresGrad));
            availableAdapters = List.copyOf(availableAdapters);
            devices = copy(devices);
        }
    }

    /**
     * The status of the whole model, PEFT's {@code TunerModelStatus}: the {@link LayerStatus} of all adapted modules
     * aggregated as PEFT does.
     *
     * @param baseModelType the root block's simple class name (PEFT: the base model's class, see the class comment)
     * @param adapterModelType the adapters' method names, e.g. {@code lora} (PEFT: its tuner class, {@code LoraModel})
     * @param peftTypes adapter name to its {@code peft_type} ({@link AdapterConfig#peftType()}, e.g. {@code LORA}), in
     *     the order the adapters were added
     * @param trainableParams the scalars of all parameters that train ({@link ParameterCounts#trainable()})
     * @param totalParams the scalars of all parameters of the model ({@link ParameterCounts#total()})
     * @param numAdapterLayers the number of adapted modules
     * @param enabled whether the adapters are enabled in every module, in none, or irregular
     * @param activeAdapters the active adapters if every module has the same list, else irregular
     * @param mergedAdapters the adapters merged in at least one module, sorted by name; irregular if one of them is
     *     not merged in a module that has it
     * @param requiresGrad per adapter (in order of first appearance over the modules): true (false) if its
     *     {@code requiresGrad} is true (false) in every module that has it, irregular otherwise
     * @param availableAdapters every adapter of any module, sorted by name
     * @param devices per adapter: the sorted device types over all modules
     */
    public record ModelStatus(
            String baseModelType,
            String adapterModelType,
            Map<String, String> peftTypes,
            long trainableParams,
            long totalParams,
            int numAdapterLayers,
            Uniform<Boolean> enabled,
            Uniform<List<String>> activeAdapters,
            Uniform<List<String>> mergedAdapters,
            Map<String, Uniform<Boolean>> requiresGrad,
            List<String> availableAdapters,
            Map<String, List<String>> devices) {

        /** Copies the lists and maps (keeping the maps' order). */
        public ModelStatus {
            peftTypes = Collections.unmodifiableMap(new LinkedHashMap<>(peftTypes));
            requiresGrad = Collections.unmodifiableMap(new LinkedHashMap<>(requiresGrad));
            availableAdapters = List.copyOf(availableAdapters);
            devices = copy(devices);
        }
    }

    /**
     * Returns the status of every adapted module (PEFT's {@code get_layer_status()}), in tree order.
     *
     * @param peft the adapted model
     * @return one status per adapted module
     * @throws IllegalStateException if the model has no adapted module (no adapter left, or unloaded), as PEFT's
     *     {@code ValueError}
     */
    public static List<LayerStatus> layers(AdaptedModel peft) {
        synchronized (peft) {
            Map<String, AdaptedLinear> modules = peft.adaptedModules();
            if (modules.isEmpty()) {
                throw new IllegalStateException("No adapter layers found in the model (no adapter left, or unloaded)");
            }
            Map<String, AdapterConfig> configs = peft.adapters();
            List<LayerStatus> out = new ArrayList<>(modules.size());
            for (String path : treeOrder(peft, modules.keySet())) {
                out.add(layer(path, modules.get(path), configs));
            }
            return List.copyOf(out);
        }
    }

    /**
     * Returns the status of the model (PEFT's {@code get_model_status()}).
     *
     * @param peft the adapted model
     * @return the aggregated status
     * @throws IllegalStateException if the model has no adapted module, as {@link #layers}
     */
    public static ModelStatus model(AdaptedModel peft) {
        synchronized (peft) {
            List<LayerStatus> layers = layers(peft);
            Map<String, AdapterConfig> configs = peft.adapters();
            Map<String, String> peftTypes = new LinkedHashMap<>();
            configs.forEach((name, config) -> peftTypes.put(name, config.peftType()));
            ParameterCounts counts =
                    ParameterCounts.of(peft.block(), peft.adaptedModules().keySet());

            Set<Boolean> enabled = layers.stream().map(LayerStatus::enabled).collect(Collectors.toSet());
            Set<List<String>> active =
                    layers.stream().map(LayerStatus::activeAdapters).collect(Collectors.toSet());
            Set<String> available = new TreeSet<>();
            Set<String> mergedAll = new TreeSet<>();
            Map<String, List<Uniform<Boolean>>> grads = new LinkedHashMap<>();
            Map<String, List<String>> devices = new LinkedHashMap<>();
            for (LayerStatus layer : layers) {
                available.addAll(layer.availableAdapters());
                mergedAll.addAll(layer.mergedAdapters());
                layer.requiresGrad()
                        .forEach((k, v) ->
                                grads.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
                layer.devices()
                        .forEach((k, v) -> devices.computeIfAbsent(k, x -> new ArrayList<>())
                                .addAll(v));
            }
            Uniform<List<String>> merged = Uniform.of(List.copyOf(mergedAll));
            for (LayerStatus layer : layers) {
                Set<String> unmerged = new HashSet<>(layer.availableAdapters());
                layer.mergedAdapters().forEach(unmerged::remove);
                if (unmerged.stream().anyMatch(mergedAll::contains)) {
                    merged = Uniform.irregular();
                    break;
                }
            }
            Map<String, Uniform<Boolean>> requiresGrad = new LinkedHashMap<>();
            grads.forEach((k, v) -> requiresGrad.put(k, agree(v)));
            devices.replaceAll((k, v) -> sortedDistinct(v));
            return new ModelStatus(
                    peft.block().getClass().getSimpleName(),
                    methods(configs.values()),
                    peftTypes,
                    counts.trainable(),
                    counts.total(),
                    layers.size(),
                    enabled.size() == 1 ? Uniform.of(enabled.iterator().next()) : Uniform.irregular(),
                    active.size() == 1 ? Uniform.of(active.iterator().next()) : Uniform.irregular(),
                    merged,
                    requiresGrad,
                    List.copyOf(available),
                    devices);
        }
    }

    private static LayerStatus layer(String path, AdaptedLinear module, Map<String, AdapterConfig> configs) {
        Map<String, LinearAdapter> adapters = module.adapters();
        Map<String, Uniform<Boolean>> requiresGrad = new LinkedHashMap<>();
        Map<String, List<String>> devices = new LinkedHashMap<>();
        List<AdapterConfig> own = new ArrayList<>();
        adapters.forEach((name, adapter) -> {
            Collection<Parameter> params = adapter.parameters().values();
            List<Boolean> flags =
                    params.stream().map(Parameter::requiresGradient).toList();
            if (!flags.isEmpty()) { // PEFT lists an adapter by its parameters
                requiresGrad.put(name, agreeFlags(flags));
            }
            List<String> types = new ArrayList<>();
            params.stream()
                    .filter(Parameter::isInitialized)
                    .forEach(p -> types.add(p.getArray().getDevice().getDeviceType()));
            adapter.buffers().values().stream().map(NDArray::getDevice).forEach(d -> types.add(d.getDeviceType()));
            if (!types.isEmpty()) {
                devices.put(name, sortedDistinct(types));
            }
            AdapterConfig config = configs.get(name);
            if (config != null) {
                own.add(config);
            }
        });
        return new LayerStatus(
                path,
                methods(own) + ".Linear",
                !module.isDisabled(),
                module.activeNames(),
                module.mergedAdapters(),
                requiresGrad,
                List.copyOf(new TreeSet<>(adapters.keySet())),
                devices);
    }

    /** The adapted paths in the order the tree lists its modules (PEFT's {@code named_modules} order). */
    private static List<String> treeOrder(AdaptedModel peft, Set<String> adapted) {
        LinkedHashSet<String> out = new LinkedHashSet<>();
        for (String path : BlockTree.nodes(peft.block()).keySet()) {
            if (adapted.contains(path)) {
                out.add(path);
            }
        }
        out.addAll(adapted); // a module the walk did not reach keeps its place at the end
        return List.copyOf(out);
    }

    /** The distinct method names of configs, in order, joined by {@code +}. */
    private static String methods(Collection<AdapterConfig> configs) {
        LinkedHashSet<String> names = new LinkedHashSet<>();
        for (AdapterConfig config : configs) {
            String name;
            try {
                name = AdapterMethods.of(config).name();
            } catch (IllegalArgumentException unregistered) {
                name = config.peftType().toLowerCase(Locale.ROOT);
            }
            names.add(name);
        }
        return String.join("+", names);
    }

    /** One adapter's parameters in one module: PEFT's {@code all / none / "irregular"}. */
    private static Uniform<Boolean> agreeFlags(List<Boolean> flags) {
        if (flags.stream().allMatch(Boolean::booleanValue)) {
            return Uniform.of(true);
        }
        return flags.stream().noneMatch(Boolean::booleanValue) ? Uniform.of(false) : Uniform.irregular();
    }

    /** One adapter over the modules: true (false) only if true (false) everywhere, irregular otherwise. */
    private static Uniform<Boolean> agree(List<Uniform<Boolean>> values) {
        for (boolean b : new boolean[] {true, false}) {
            if (values.stream().allMatch(Uniform.of(b)::equals)) {
                return Uniform.of(b);
            }
        }
        return Uniform.irregular();
    }

    private static List<String> sortedDistinct(Collection<String> values) {
        return List.copyOf(new TreeSet<>(values));
    }

    private static Map<String, List<String>> copy(Map<String, List<String>> map) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        map.forEach((k, v) -> out.put(k, List.copyOf(v)));
        return Collections.unmodifiableMap(out);
    }
}
