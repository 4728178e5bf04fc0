package dev.delora.core.method;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.core.target.TargetSpec;
import java.util.Map;
import java.util.Set;

/**
 * One adapter method as the shared machinery sees it: its PEFT file format and its training needs. Each method's
 * package (config, adapter math, this class) implements it once; {@link AdapterMethods} finds the implementations
 * with {@link java.util.ServiceLoader} ({@code META-INF/services/dev.delora.core.method.AdapterMethod}), so adding a
 * method touches no shared code.
 *
 * <p>The format part mirrors PEFT's {@code PeftConfig} subclasses: {@link #toFields} and {@link #fromFields} map a
 * config to the method's own fields of {@code adapter_config.json} (targets, {@code peft_type} and metadata are
 * written and read by the caller), {@link #stateShapes} names each module's state-dict entries and their shapes, and
 * {@link #restore} rebuilds an adapter from them. Implementations are stateless and thread-safe.
 */
public interface AdapterMethod {

    /**
     * Returns the method's name for command lines and logs, lower case (e.g. {@code lora}, {@code delora}).
     *
     * @return the name
     */
    String name();

    /**
     * Returns the config type this method reads and writes.
     *
     * @return the config class
     */
    Class<? extends AdapterConfig> configType();

    /**
     * Returns every {@code peft_type} this method reads (what {@link AdapterConfig#peftType()} can return).
     *
     * @return the PEFT types, e.g. {@code [DELORA, DELORA_PAPER]}
     */
    Set<String> peftTypes();

    /**
     * Tells whether this method reads a file's fields when several methods share its {@code peft_type} (PEFT's LoRA
     * variants are {@code peft_type: "LORA"} with a flag, e.g. {@code use_dora}). Exactly one method sharing a type
     * must accept a file's fields.
     *
     * @param fields the file's fields
     * @return true if this method reads them (the default, for a method that owns its types alone)
     */
    default boolean accepts(ConfigFields fields) {
        return true;
    }

    /**
     * Returns the method's own {@code adapter_config.json} fields of a config, with PEFT's names and encodings
     * (values are {@code Boolean}, {@code Number}, {@code String}, {@code List}, {@code Map} or {@code null}).
     *
     * @param config a config of {@link #configType()}
     * @return field name to value, in a stable order
     */
    Map<String, Object> toFields(AdapterConfig config);

    /**
     * Builds a config from {@code adapter_config.json} fields or from fields a program or command line gives (where
     * {@code peft_type} may be absent), taking PEFT's default for each absent field.
     *
     * @param fields the fields, with {@code peft_type} when read from a file
     * @param targets the already parsed targeting fields
     * @return the validated config
     * @throws IllegalArgumentException naming the field, what was found and what is expected
     */
    AdapterConfig fromFields(ConfigFields fields, TargetSpec targets);

    /**
     * Returns the state-dict entries of one adapted module (suffixes without the adapter name, e.g.
     * {@code lora_A.weight}) and their shapes, for a base weight {@code [out, in]}.
     *
     * @param config the config
     * @param modulePath the module's dotted path (resolves per-module ranks)
     * @param out the base weight's rows
     * @param in the base weight's columns
     * @return suffix to shape, in state-dict order
     */
    Map<String, Shape> stateShapes(AdapterConfig config, String modulePath, long out, long in);

    /**
     * Rebuilds the adapter of one module from saved state that has the shapes of {@link #stateShapes}, in float32.
     * The state arrays belong to the caller: the adapter copies what it keeps onto {@code manager}.
     *
     * @param config the config
     * @param modulePath the module's dotted path
     * @param state suffix to array
     * @param weight the module's frozen base weight {@code [out, in]}
     * @param manager the manager that owns the adapter's arrays (the model's)
     * @return the adapter
     */
    LinearAdapter restore(
            AdapterConfig config, String modulePath, Map<String, NDArray> state, NDArray weight, NDManager manager);

    /**
     * Returns what training this method needs beyond a plain optimizer over its parameters: parameter groups, loss
     * terms, its own optimizers and schedules, all read from the config. Most methods need nothing.
     *
     * @param config the config of the adapter being trained
     * @param context the adapter's parameters and the run's learning rates
     * @return the extension (close it after training)
     */
    default TrainingExtension training(AdapterConfig config, TrainingContext context) {
        return TrainingExtension.NONE;
    }

    /**
     * Casts a config to this method's type with a clear error.
     *
     * @param <C> the config type
     * @param type the expected class
     * @param config the config
     * @return the config, typed
     * @throws IllegalArgumentException if the config belongs to another method
     */
    static <C extends AdapterConfig> C cast(Class<C> type, AdapterConfig config) {
        if (!type.isInstance(config)) {
            throw new IllegalArgumentException("Expected a " + type.getSimpleName() + ", got "
                    + (config == null ? "null" : config.getClass().getName()));
        }
        return type.cast(config);
    }
}
