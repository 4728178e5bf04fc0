/**
 * Hugging Face models built from DJL blocks with Hugging Face's module names (BERT/RoBERTa encoders and sequence
 * classifiers), their weights, tokenizers, hub cache, the embedded all-MiniLM-L6-v2, and export of merged models.
 *
 * <p>May depend on: {@code delora-core}, {@code djl.io}, {@code djl.tree}, {@code djl.peft} (model families implement
 * {@link dev.delora.djl.peft.PeftTaskModel}). Nothing in {@code peft}, {@code persist} or {@code train} depends on it.
 */
package dev.delora.djl.hf;
