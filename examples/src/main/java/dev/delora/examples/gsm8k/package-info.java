/**
 * GSM8K for the causal-LM example: problems read strictly from the authors' JSON-lines files
 * ({@link dev.delora.examples.gsm8k.Gsm8kData}, with a 256/128-problem sample shipped under its MIT licence) and the
 * standard metric, exact match of the final {@code #### N} number ({@link dev.delora.examples.gsm8k.Gsm8kAnswers}),
 * and the fine-tuning run of the {@code gsm8k} command ({@link dev.delora.examples.gsm8k.Gsm8kRunner}).
 */
package dev.delora.examples.gsm8k;
