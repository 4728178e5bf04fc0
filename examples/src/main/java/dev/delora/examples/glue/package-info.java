/**
 * GLUE data for the examples, following the protocol of the DeLoRA paper (taken from RED): the original GLUE
 * TSV files ({@link dev.delora.examples.glue.GlueTsvReader}), the per-seed split of each official dev set into
 * a new validation and a new test part ({@link dev.delora.examples.glue.RedSplits}, which needs numpy's legacy
 * random generator, {@link dev.delora.examples.glue.NumpyRandomState}) and the metrics of the {@code evaluate}
 * library's {@code glue} metric ({@link dev.delora.examples.glue.GlueMetrics}).
 */
package dev.delora.examples.glue;
