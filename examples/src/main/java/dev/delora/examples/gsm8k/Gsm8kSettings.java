package dev.delora.examples.gsm8k;

import dev.delora.core.AdapterConfig;
import dev.delora.core.method.AdapterMethods;
import dev.delora.core.method.ConfigFields;
import dev.delora.djl.persist.AdapterConfigJson;
import dev.delora.djl.train.TrainerSettings;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every knob of one GSM8K fine-tuning run. The adapter is any registered method, described by its
 * {@code adapter_config.json} fields (PEFT's names) over {@link #defaultFields}, always on {@code q_proj} and
 * {@code v_proj}.
 *
 * @param method a registered adapter method name
 * @param adapterFields adapter fields over the defaults (e.g. {@code r}, {@code delora_lambda})
 * @param lr the learning rate (AdamW, no weight decay, linear decay to 0 without warmup)
 * @param epochs training epochs
 * @param batchSize training and evaluation batch size
 * @param trainSamples training problems (the first N of the train split)
 * @param evalSamples held-out problems (the first M of the test split)
 * @param maxLength the most tokens of prompt + response (+ eos); longer prompts lose their start
 * @param maxNewTokens the most tokens generated per problem
 * @param seed the seed of the engine and the batch shuffle
 */
public record Gsm8kSettings(
        String method,
        Map<String, Object> adapterFields,
        double lr,
        int epochs,
        int batchSize,
        int trainSamples,
        int evalSamples,
        int maxLength,
        int maxNewTokens,
        long seed) {

    /** The adapted modules. */
    public static final List<String> TARGETS = List.of("q_proj", "v_proj");

    /** Validates the numbers (each message names the option) and copies the fields. */
    public Gsm8kSettings {
        adapterFields = new LinkedHashMap<>(adapterFields);
        if (!(lr > 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("--lr must be finite and > 0, got " + lr);
        }
        atLeast("--epochs", epochs, 1);
        atLeast("--batch-size", batchSize, 1);
        atLeast("--train-samples", trainSamples, 1);
        atLeast("--eval-samples", evalSamples, 1);
        atLeast("--max-length", maxLength, 2);
        atLeast("--max-new-tokens", maxNewTokens, 1);
    }

    /**
     * Returns the default adapter fields of a method: {@code r=8}, and {@code lora_alpha=16} for LoRA and DoRA,
     * {@code delora_lambda=0.5} for DeLoRA (other methods keep their own defaults). DeLoRA's update has norm about
     * {@code λ·‖W‖} as soon as B is non-zero; GLUE's λ = 12 turned SmolLM2-135M's answers to noise within 3 steps,
     * λ = 0.5 learned a one-example answer in 3 steps at lr 1e-3 (a smoke check, not a tuned value).
     *
     * @param method the method name
     * @return the fields
     */
    public static Map<String, Object> defaultFields(String method) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("r", 8);
        switch (method) {
            case "lora", "dora" -> fields.put("lora_alpha", 16);
            case "delora" -> fields.put("delora_lambda", 0.5);
            default -> {}
        }
        return fields;
    }

    /**
     * Returns the copied adapter fields.
     *
     * @return the fields
     */
    @Override
    public Map<String, Object> adapterFields() {
        return new LinkedHashMap<>(adapterFields);
    }

    /**
     * Returns the adapter fields in effect: {@link #defaultFields} with {@link #adapterFields} over them.
     *
     * @return the fields
     */
    public Map<String, Object> effectiveFields() {
        Map<String, Object> fields = defaultFields(method);
        fields.putAll(adapterFields);
        return fields;
    }

    /**
     * Builds the adapter config: the default fields, these fields over them, the targets and no saved modules.
     *
     * @return the validated config
     * @throws IllegalArgumentException naming the method or the field
     */
    public AdapterConfig adapterConfig() {
        Map<String, Object> fields = effectiveFields();
        fields.put("target_modules", TARGETS);
        fields.put("modules_to_save", List.of());
        return AdapterConfigJson.fromFields(
                AdapterMethods.byName(method), new ConfigFields(fields, method + " adapter fields"));
    }

    /**
     * Returns the trainer settings: AdamW at {@link #lr}, no weight decay, no warmup (linear decay to 0),
     * no clipping, progress on stderr.
     *
     * @return the settings
     */
    public TrainerSettings trainerSettings() {
        return TrainerSettings.builder()
                .epochs(epochs)
                .learningRate(lr)
                .weightDecay(0)
                .warmupRatio(0)
                .progress(true)
                .logEvery(Math.max(1, trainSamples / batchSize / 4))
                .build();
    }

    private static void atLeast(String option, int value, int min) {
        if (value < min) {
            throw new IllegalArgumentException(option + " must be >= " + min + ", got " + value);
        }
    }
}
