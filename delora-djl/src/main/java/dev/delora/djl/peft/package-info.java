/**
 * The adapted model, PEFT's {@code PeftModel}: {@link dev.delora.djl.peft.AdaptedModel} (adapters by name, active,
 * disabled, merged; add, delete, merge, unmerge, unload, convert) over {@link dev.delora.djl.peft.AdaptedLinear}
 * wrappers; the exact plain-LoRA form of any adapter ({@link dev.delora.djl.peft.LoraForm}); parameter counts; the
 * adapter status per module and model ({@link dev.delora.djl.peft.AdapterStatus}, PEFT's {@code get_layer_status()}
 * and {@code get_model_status()}); and
 * {@link dev.delora.djl.peft.PeftTaskModel}, which model families implement to name their PEFT task and head.
 *
 * <p>May depend on: {@code delora-core} (never a method package except LoRA, the target of conversion),
 * {@code djl.tree}. Not on {@code persist},
 * {@code train} or {@code hf}.
 */
package dev.delora.djl.peft;
