/**
 * Array helpers the methods share: trainable parameters, initialisers, safe norms, dropout, finiteness checks, owned
 * copies and libtorch-owned scalar constants (DJL's {@code Number} operands are unsafe under autograd).
 *
 * <p>May depend on: {@code ai.djl:api} only.
 */
package dev.delora.core.array;
