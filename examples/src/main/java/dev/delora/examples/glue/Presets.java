package dev.delora.examples.glue;

import dev.delora.core.method.AdapterMethods;
import java.util.List;
import java.util.Map;

/**
 * Published hyperparameters for RoBERTa-base on GLUE, as data per registered method name (adapter fields use PEFT's
 * {@code adapter_config.json} names). A registered method without a row here gets LoRA's training setup with the
 * method's own defaults and {@code r = 8}.
 *
 * <ul>
 *   <li>DeLoRA: the paper's Table 9 (appendix B) for λ₀, learning rate, batch size, epochs and dropout; the λ learning
 *       rate 3e-3 for MNLI, SST-2, QNLI, QQP and 1e-2 otherwise (appendix B text). The reference script
 *       {@code scripts/glue_eval.sh} differs for QQP (lr 3e-3, batch 32, dropout 0.1, λ₀ 12), RTE (λ₀ 4, batch 32)
 *       and has no MRPC entry; the paper's values are used here. Init: the paper's frozen-copy init; r = 8 on
 *       query and value; warmup 6 %; weight decay 0.01; no clipping; max length 512 (the paper; the script truncates
 *       at 256).</li>
 *   <li>LoRA: the LoRA paper's Table 9 for RoBERTa-base (r = 8, α = 8, batch 16, per-task lr and epochs), q,v.
 *       DoRA takes LoRA's row (the DeLoRA paper compares them at equal settings).</li>
 *   <li>LoRA-XS: the LoRA-XS paper's GLUE setup (α = 16, lr 1e-3, batch 32, max length 128, targets q, v, attention
 *       output and FFN output); 10 epochs (the paper trains RTE, MRPC, STS-B 50 epochs from an MNLI checkpoint,
 *       which this runner does not do).</li>
 *   <li>SoRA: the reference's {@code run_glue_sora_no_schedule.sh} (r = 8, α = 16, η = 10, ξ = 3e-4, lr 8e-4,
 *       batch 8, 20 epochs, weight decay 0.1, clip 0.1, max length 128, all six Linears of each layer).</li>
 * </ul>
 */
public final class Presets {

    private static final List<String> QV = List.of("query", "value");

    private Presets() {}

    /**
     * Returns the preset of a method for a task.
     *
     * @param task the GLUE task
     * @param method a registered method name
     * @return the hyperparameters
     * @throws IllegalArgumentException if no method has that name
     */
    public static Hyperparameters of(GlueTask task, String method) {
        String name = AdapterMethods.byName(method).name();
        return switch (name) {
            case "delora" -> delora(task);
            case "lora", "dora" -> lora(task, name, Map.of("r", 8, "lora_alpha", 8, "lora_dropout", 0f));
            case "loraxs" ->
                new Hyperparameters(
                        name,
                        10,
                        32,
                        1e-3,
                        0.01,
                        0.06,
                        Double.NaN,
                        128,
                        List.of("query", "value", "attention.output.dense", "output.dense"),
                        Map.of("r", 8, "lora_alpha", 16, "lora_dropout", 0f),
                        Map.of());
            case "sora" ->
                new Hyperparameters(
                        name,
                        20,
                        8,
                        8e-4,
                        0.1,
                        0.06,
                        0.1,
                        128,
                        List.of(
                                "query",
                                "key",
                                "value",
                                "attention.output.dense",
                                "intermediate.dense",
                                "output.dense"),
                        Map.of(
                                "r",
                                8,
                                "lora_alpha",
                                16,
                                "lora_dropout",
                                0f,
                                "sparse_lambda",
                                10f,
                                "sparse_lambda_2",
                                3e-4f),
                        Map.of());
            default -> lora(task, name, Map.of("r", 8));
        };
    }

    private static Hyperparameters delora(GlueTask task) {
        // λ₀, lr, batch, epochs, dropout from Table 9
        record Row(float lambda, double lr, int batch, int epochs, float dropout) {}
        Row row = switch (task) {
            case MNLI -> new Row(12, 1e-3, 32, 30, 0f);
            case SST2 -> new Row(12, 1e-3, 32, 30, 0.1f);
            case MRPC -> new Row(4, 3e-2, 32, 40, 0.2f);
            case COLA -> new Row(4, 1e-2, 8, 80, 0.2f);
            case QNLI -> new Row(12, 3e-3, 32, 25, 0.25f);
            case QQP -> new Row(4, 1e-3, 256, 25, 0.25f);
            case RTE -> new Row(12, 1e-2, 8, 80, 0f);
            case STSB -> new Row(12, 1e-2, 8, 40, 0.2f);
        };
        boolean large = task == GlueTask.MNLI || task == GlueTask.SST2 || task == GlueTask.QNLI || task == GlueTask.QQP;
        return new Hyperparameters(
                "delora",
                row.epochs(),
                row.batch(),
                row.lr(),
                0.01,
                0.06,
                Double.NaN,
                512,
                QV,
                Map.of("r", 8, "delora_lambda", row.lambda(), "module_dropout", row.dropout(), "init_weights", "paper"),
                Map.of("delora_lambda", large ? 3e-3 : 1e-2));
    }

    private static Hyperparameters lora(GlueTask task, String method, Map<String, Object> fields) {
        record Row(double lr, int epochs) {}
        Row row = switch (task) {
            case MNLI -> new Row(5e-4, 30);
            case SST2 -> new Row(5e-4, 60);
            case MRPC -> new Row(4e-4, 30);
            case COLA -> new Row(4e-4, 80);
            case QNLI -> new Row(4e-4, 25);
            case QQP -> new Row(5e-4, 25);
            case RTE -> new Row(5e-4, 80);
            case STSB -> new Row(4e-4, 40);
        };
        return new Hyperparameters(
                method, row.epochs(), 16, row.lr(), 0.01, 0.06, Double.NaN, 512, QV, fields, Map.of());
    }
}
