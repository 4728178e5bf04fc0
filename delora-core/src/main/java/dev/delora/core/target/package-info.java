/**
 * PEFT's rules for choosing modules: {@code target_modules} (names, suffixes or a full-match regex,
 * {@code all-linear}), {@code exclude_modules}, {@code layers_to_transform}/{@code layers_pattern},
 * {@code modules_to_save}, and per-module patterns ({@code rank_pattern}, {@code alpha_pattern}).
 *
 * <p>May depend on: the JDK only.
 */
package dev.delora.core.target;
