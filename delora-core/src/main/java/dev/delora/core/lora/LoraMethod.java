package dev.delora.core.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.core.LoraFactors;
import dev.delora.core.method.AdapterMethod;
import dev.delora.core.method.ConfigFields;
import dev.delora.core.method.FieldValues;
import dev.delora.core.target.TargetSpec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * LoRA's PEFT format: exactly the {@code LoraConfig} fields and state dict PEFT 0.21.2 writes and loads. Variants
 * that change what the saved A/B mean (DoRA, LoRA bias, PiSSA-style inits, …) are rejected by name.
 */
public final class LoraMethod implements AdapterMethod {

    /** Creates the method (the registry instantiates it). */
    public LoraMethod() {}

    @Override
    public String name() {
        return "lora";
    }

    @Override
    public Class<LoraConfig> configType() {
        return LoraConfig.class;
    }

    @Override
    public Set<String> peftTypes() {
        return Set.of("LORA");
    }

    @Override
    public boolean accepts(ConfigFields fields) {
        return !Boolean.TRUE.equals(fields.get("use_dora"));
    }

    @Override
    public Map<String, Object> toFields(AdapterConfig config) {
        return fields(AdapterMethod.cast(LoraConfig.class, config), false);
    }

    /**
     * Returns LoRA's {@code adapter_config.json} fields of a config, for LoRA and its variants.
     *
     * @param l the LoRA fields
     * @param useDora the value of {@code use_dora}
     * @return field name to value, in a stable order
     */
    public static Map<String, Object> fields(LoraConfig l, boolean useDora) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("r", l.r());
        o.put("lora_alpha", FieldValues.number(l.loraAlpha()));
        o.put("lora_dropout", FieldValues.decimal(l.loraDropout()));
        o.put("use_rslora", l.useRslora());
        o.put(
                "init_lora_weights",
                switch (l.initLoraWeights()) {
                    case DEFAULT -> true;
                    case GAUSSIAN -> "gaussian";
                    case RANDOM -> false;
                });
        o.put("rank_pattern", new LinkedHashMap<>(l.rankPattern()));
        o.put("alpha_pattern", FieldValues.numbers(l.alphaPattern()));
        o.put("bias", "none");
        o.put("fan_in_fan_out", false);
        o.put("use_dora", useDora);
        o.put("lora_bias", false);
        return o;
    }

    @Override
    public LoraConfig fromFields(ConfigFields j, TargetSpec targets) {
        j.requireAbsentOrValue("use_dora", false, "DoRA adapters are read by the 'dora' method");
        return readFields(j, targets);
    }

    /**
     * Reads LoRA's fields except {@code use_dora}, refusing the variants this library does not implement; for LoRA
     * and the variants that are LoRA plus extra state (DoRA).
     *
     * @param j the fields
     * @param targets the parsed targeting fields
     * @return the LoRA fields
     * @throws IllegalArgumentException naming the field
     */
    public static LoraConfig readFields(ConfigFields j, TargetSpec targets) {
        j.requireAbsentOrValue("lora_bias", false, "LoRA bias terms are not supported");
        j.requireAbsentOrValue("use_qalora", false, "QALoRA adapters are not supported");
        j.requireNullOrEmpty("alora_invocation_tokens", "aLoRA adapters are not supported");
        j.requireNullOrEmpty("target_parameters", "target_parameters (adapting nn.Parameters) is not supported");
        j.requireNullOrEmpty("layer_replication", "layer_replication is not supported");
        j.requireNullOrEmpty("trainable_token_indices", "trainable_token_indices is not supported");
        for (String variant :
                List.of("use_bdlora", "velora_config", "kasa_config", "monteclora_config", "arrow_config")) {
            j.requireNullOrEmpty(variant, "LoRA variant '" + variant + "' is not supported");
        }
        LoraConfig.Builder b = LoraConfig.builder()
                .r(j.integer("r", 8))
                .loraAlpha(j.number("lora_alpha", 8))
                .loraDropout(j.number("lora_dropout", 0))
                .useRslora(j.bool("use_rslora", false))
                .initLoraWeights(loraInit(j));
        j.intMap("rank_pattern").forEach(b::rankPattern);
        j.floatMap("alpha_pattern").forEach(b::alphaPattern);
        return b.targets(targets).build();
    }

    private static LoraInit loraInit(ConfigFields j) {
        Object e = j.get("init_lora_weights");
        if (e == null) {
            return LoraInit.DEFAULT;
        }
        if (e instanceof Boolean b) {
            return b ? LoraInit.DEFAULT : LoraInit.RANDOM;
        }
        if ("gaussian".equals(e)) {
            return LoraInit.GAUSSIAN;
        }
        // PiSSA, OLoRA, CorDA, LoftQ, … change the base weights (or need data); the saved A/B alone are not the
        // adapter then
        throw j.error("init_lora_weights " + e + " is not supported (it changes or depends on the base weights); "
                + "supported: true, false, \"gaussian\"");
    }

    @Override
    public Map<String, Shape> stateShapes(AdapterConfig config, String path, long out, long in) {
        int r = AdapterMethod.cast(LoraConfig.class, config).rankFor(path);
        Map<String, Shape> m = new LinkedHashMap<>();
        m.put(LoraAdapter.A, new Shape(r, in));
        m.put(LoraAdapter.B, new Shape(out, r));
        return m;
    }

    @Override
    public LinearAdapter restore(
            AdapterConfig config, String path, Map<String, NDArray> state, NDArray weight, NDManager manager) {
        LoraConfig l = AdapterMethod.cast(LoraConfig.class, config);
        // LoraFactors is only a holder here: fromFactors copies, the caller closes the state arrays
        LoraFactors f = new LoraFactors(state.get(LoraAdapter.A), state.get(LoraAdapter.B), l.scalingFor(path));
        return LoraAdapter.fromFactors(f, l.loraDropout(), manager);
    }
}
