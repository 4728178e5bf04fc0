/**
 * Hugging Face chat templates: {@link dev.delora.djl.hf.chat.ChatTemplate} renders a model's Jinja
 * {@code chat_template} exactly as transformers' {@code apply_chat_template(..., tokenize=False)} does, with a small
 * strict Jinja interpreter sized for chat templates (no dependency beyond Gson).
 *
 * <p>Supported: whitespace control, comments, {@code raw}, jinja2's {@code trim_blocks} and {@code lstrip_blocks};
 * {@code if/elif/else}, {@code for} (with {@code loop.*}, unpacking, {@code if} filters and {@code else}),
 * {@code break}/{@code continue}, {@code set} (including {@code namespace} attributes and block sets),
 * {@code macro}, {@code with}, {@code filter}, {@code generation}; Python literals, operators, slices, calls with
 * keyword arguments, the common filters and tests, Python's {@code str} and {@code dict} methods, and Python's
 * printing of values. jinja2's default {@code Undefined} and the immutable sandbox (no {@code list.append}) are
 * reproduced. Other syntax ({@code include}, {@code call}, recursive loops, unknown filters or tests) is a parse
 * error, never different output.
 *
 * <p>May depend on: Gson. Nothing else in delora4j depends on it.
 */
package dev.delora.djl.hf.chat;
