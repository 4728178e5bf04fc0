/**
 * The extension point for adapter methods: {@link dev.delora.core.method.AdapterMethod} (a method's PEFT file format
 * and training needs), {@link dev.delora.core.method.AdapterMethods} (the registry, fed by
 * {@link java.util.ServiceLoader}; the only code that lists methods), {@link dev.delora.core.method.ConfigFields}
 * (strict reading of {@code adapter_config.json} fields), and the training contract
 * ({@link dev.delora.core.method.TrainingExtension}, {@link dev.delora.core.method.TrainingContext},
 * {@link dev.delora.core.method.ParameterGroup}).
 *
 * <p>May depend on: {@code ai.djl:api}, {@code dev.delora.core}, {@code core.target}. Never on a method package.
 */
package dev.delora.core.method;
