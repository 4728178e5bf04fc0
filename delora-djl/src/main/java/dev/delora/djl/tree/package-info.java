/**
 * Model surgery on DJL block trees: PEFT-style dotted paths for every module and parameter, replacing a block wherever
 * the tree refers to it (child lists, fields, lists, arrays), and selecting the targeted {@code Linear} modules.
 *
 * <p>May depend on: {@code ai.djl:api}, {@code core.target}.
 */
package dev.delora.djl.tree;
