/**
 * Llama-family causal language models ({@code LlamaForCausalLM}, {@code Qwen2ForCausalLM}, {@code MistralForCausalLM}
 * without sliding window) built from DJL blocks named as in transformers, loaded strictly from Hugging Face folders,
 * with a KV cache, greedy generation and the causal-LM loss.
 *
 * <p>May depend on: {@code delora-core} ({@code core}, {@code core.array}), {@code djl.io}, {@code djl.tree},
 * {@code djl.peft} (the root block implements {@link dev.delora.djl.peft.PeftTaskModel}) and {@code djl.hf} (the
 * {@code HfModule} base and {@code HfWeights}). Nothing else in delora4j depends on it.
 */
package dev.delora.djl.hf.decoder;
