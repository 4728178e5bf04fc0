/**
 * Host-side linear algebra DJL lacks: a randomized truncated SVD (LoRA-XS's init) over a deterministic symmetric
 * eigensolver.
 *
 * <p>May depend on: {@code ai.djl:api} only.
 */
package dev.delora.core.linalg;
