/**
 * Training: {@link dev.delora.djl.train.AdapterTrainer} (per-step native scopes, accumulation, clipping, schedule,
 * evaluation, best epoch, continuation phases) and what it builds from an adapter's config
 * ({@link dev.delora.djl.train.MethodTraining}: parameter groups and the method's
 * {@link dev.delora.core.method.TrainingExtension}); torch-exact AdamW with groups, transformers' linear schedule,
 * global-norm clipping.
 *
 * <p>May depend on: {@code delora-core} (never a method package), {@code djl.tree}, {@code djl.peft}.
 */
package dev.delora.djl.train;
