/**
 * The adapter contract every method implements: {@link dev.delora.core.AdapterConfig} (an immutable, validated config
 * with PEFT's field names), {@link dev.delora.core.LinearAdapter} (the math of one adapted {@code Linear}: decomposed
 * forward, exact plain-LoRA form) and {@link dev.delora.core.LoraFactors}, plus the config builders' shared options.
 *
 * <p>May depend on: {@code ai.djl:api}, {@code core.array}, {@code core.target}. Never on {@code core.method} (which
 * depends on this package) nor on a method
 * package. Nothing in {@code delora-core} depends on {@code delora-djl}.
 */
package dev.delora.core;
