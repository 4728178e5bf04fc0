/**
 * The {@code robustness} command: the DeLoRA paper's learning-rate robustness study (its Fig. 2 and Fig. 3) as a
 * resumable grid of GLUE runs (method × learning-rate multiplier × seed), with Markdown/JSON tables and XChart
 * charts of the metric and of the distance {@code ‖W_fine-tuned − W_pretrained‖_F}.
 */
package dev.delora.examples.robustness;
