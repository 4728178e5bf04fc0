/**
 * Adapters on disk in Hugging Face PEFT's layout ({@code adapter_config.json} + {@code adapter_model.safetensors}):
 * save, save as plain LoRA, load all-or-nothing. The fields every method shares are here; each method's own fields and
 * state dict come from its registered {@link dev.delora.core.method.AdapterMethod}.
 *
 * <p>May depend on: {@code delora-core} (never a method package except LoRA, the target of conversion),
 * {@code djl.io}, {@code djl.tree}, {@code djl.peft}.
 */
package dev.delora.djl.persist;
