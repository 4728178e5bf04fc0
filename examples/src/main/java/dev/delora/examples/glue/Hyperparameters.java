package dev.delora.examples.glue;

import dev.delora.core.AdapterConfig;
import dev.delora.core.method.AdapterMethods;
import dev.delora.core.method.ConfigFields;
import dev.delora.djl.persist.AdapterConfigJson;
import dev.delora.djl.train.TrainerSettings;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Every knob of one GLUE fine-tuning run. The adapter is described by its method's registered name and its
 * {@code adapter_config.json} fields (PEFT's names), so any registered method runs without code here.
 *
 * @param method the adapter method's registered name (e.g. {@code delora})
 * @param epochs training epochs
 * @param batchSize training batch size
 * @param lr learning rate of the adapter and the classification head
 * @param weightDecay AdamW weight decay (0 for biases and LayerNorm)
 * @param warmupRatio share of steps with linear warmup before the linear decay
 * @param maxGradNorm global-norm clip, or NaN for none
 * @param maxLength tokenizer truncation length
 * @param targets the target modules
 * @param adapterFields the method's {@code adapter_config.json} fields (e.g. {@code r}, {@code delora_lambda})
 * @param groupLearningRates learning rates of the method's named parameter groups (e.g. {@code delora_lambda})
 */
public record Hyperparameters(
        String method,
        int epochs,
        int batchSize,
        double lr,
        double weightDecay,
        double warmupRatio,
        double maxGradNorm,
        int maxLength,
        List<String> targets,
        Map<String, Object> adapterFields,
        Map<String, Double> groupLearningRates) {

    /** The smallest tokenizer truncation length accepted: room for the special tokens and some text. */
    public static final int MIN_MAX_LENGTH = 8;

    /** Validates the values that no config downstream checks. */
    public Hyperparameters {
        method = AdapterMethods.byName(Objects.requireNonNull(method, "method")).name();
        if (epochs < 1 || batchSize < 1 || maxLength < MIN_MAX_LENGTH) {
            throw new IllegalArgumentException("epochs and batch size must be >= 1 and max length >= " + MIN_MAX_LENGTH
                    + ", got " + epochs + ", " + batchSize + ", " + maxLength);
        }
        if (!(lr > 0)) {
            throw new IllegalArgumentException("learning rate must be > 0, got " + lr);
        }
        targets = List.copyOf(targets);
        adapterFields = Collections.unmodifiableMap(new TreeMap<>(adapterFields)); // sorted: stable summaries
        groupLearningRates = Collections.unmodifiableMap(new TreeMap<>(groupLearningRates));
    }

    /**
     * Builds the adapter config; the classification head is always trained and saved ({@code modules_to_save}).
     *
     * @param headModules the modules trained and saved in full: the head (e.g. {@code classifier}) and, for a model
     *     whose checkpoint lacked some modules, those too ({@code HfWeights.LoadReport#modulesToSave})
     * @return the config
     * @throws IllegalArgumentException naming the field if a value does not fit the method
     */
    public AdapterConfig adapterConfig(List<String> headModules) {
        Map<String, Object> fields = new LinkedHashMap<>(adapterFields);
        fields.put("target_modules", targets);
        fields.put("modules_to_save", headModules);
        return AdapterConfigJson.fromFields(
                AdapterMethods.byName(method), new ConfigFields(fields, method + " hyperparameters"));
    }

    /**
     * Returns the trainer settings of these hyperparameters.
     *
     * @return a builder with learning rates, decay, warmup, clipping and epochs set
     */
    public TrainerSettings.Builder trainerSettings() {
        return TrainerSettings.builder()
                .epochs(epochs)
                .learningRate(lr)
                .weightDecay(weightDecay)
                .warmupRatio(warmupRatio)
                .maxGradNorm(maxGradNorm)
                .groupLearningRates(groupLearningRates);
    }

    /**
     * Returns a copy with other adapter fields merged over these.
     *
     * @param overrides field name to value
     * @return the new hyperparameters
     */
    public Hyperparameters withAdapterFields(Map<String, Object> overrides) {
        Map<String, Object> fields = new LinkedHashMap<>(adapterFields);
        fields.putAll(overrides);
        return new Hyperparameters(
                method,
                epochs,
                batchSize,
                lr,
                weightDecay,
                warmupRatio,
                maxGradNorm,
                maxLength,
                targets,
                fields,
                groupLearningRates);
    }
}
