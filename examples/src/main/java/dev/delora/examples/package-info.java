/**
 * The examples' command line: the main job (DeLoRA on the embedded MiniLM and SST-2) and the {@code glue} command.
 *
 * <p>May depend on: {@code delora-core}, {@code delora-djl}, picocli, {@code examples.glue}.
 */
package dev.delora.examples;
