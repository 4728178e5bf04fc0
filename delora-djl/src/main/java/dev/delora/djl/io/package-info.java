/**
 * Files: safetensors reading and writing (strict header checks, sharded checkpoints), crash-safe file replacement
 * ({@link dev.delora.djl.io.AtomicFiles}), and the ONNX initializer reader of the embedded MiniLM.
 *
 * <p>May depend on: {@code ai.djl:api}, Gson, protobuf (optional, MiniLM only). Nothing else of delora4j.
 */
package dev.delora.djl.io;
