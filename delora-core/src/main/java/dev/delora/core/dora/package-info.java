/**
 * DoRA, all of it: its config (PEFT's {@code LoraConfig(use_dora=True)}), its adapter math (magnitude ⊙ normalised
 * {@code W + ΔW}) and its {@link dev.delora.core.method.AdapterMethod}, registered in
 * {@code META-INF/services/dev.delora.core.method.AdapterMethod}.
 *
 * <p>May depend on: {@code ai.djl:api}, {@code dev.delora.core}, {@code core.array}, {@code core.linalg},
 * {@code core.method}, {@code core.target}, and {@code core.lora}, whose fields and factors it extends (as PEFT's
 * {@code dora.py} extends its LoRA layer). Nothing outside it depends on this one except through the registry.
 */
package dev.delora.core.dora;
