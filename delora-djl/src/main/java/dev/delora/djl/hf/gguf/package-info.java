/**
 * GGUF checkpoints (llama.cpp's format) read directly in Java: a strict reader of GGUF v2/v3 files
 * ({@link dev.delora.djl.hf.gguf.GgufFile}: metadata of every type, tensor infos, alignment, all checked against the
 * file size), dequantization of F32, F16, BF16, Q8_0, Q4_0 and Q4_1 tensors to float32 exactly as ggml, and the
 * conversion of a {@code llama} file into a Hugging Face folder ({@link dev.delora.djl.hf.gguf.GgufConversion}: config,
 * float32 safetensors with the Q/K permutation undone, a byte-level BPE {@code tokenizer.json} built from the
 * {@code tokenizer.ggml.*} metadata, the chat template) that {@code DecoderModels.causalLm} and transformers load.
 *
 * <p>May depend on: {@code djl.io} ({@code AtomicFiles}) and Gson. Nothing else in delora4j depends on it.
 */
package dev.delora.djl.hf.gguf;
