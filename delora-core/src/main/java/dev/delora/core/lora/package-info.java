/**
 * LoRA, all of it: its config (PEFT's field names and defaults), its adapter math, and its
 * {@link dev.delora.core.method.AdapterMethod} (file format and training), registered in
 * {@code META-INF/services/dev.delora.core.method.AdapterMethod}.
 *
 * <p>May depend on: {@code ai.djl:api}, {@code dev.delora.core}, {@code core.array}, {@code core.linalg},
 * {@code core.method}, {@code core.target}. No other method package, and nothing outside it depends on this one
 * except through the registry.
 */
package dev.delora.core.lora;
