package dev.delora.core.loraxs;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.core.linalg.RandomizedSvd;
import dev.delora.core.method.AdapterMethod;
import dev.delora.core.method.ConfigFields;
import dev.delora.core.method.FieldValues;
import dev.delora.core.target.TargetSpec;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * LoRA-XS's format under our own {@code peft_type} {@code LORAXS} (PEFT has no LoRA-XS): the r×r matrix R
 * ({@code lora_latent_mapping.weight}, the reference's name) and the frozen SVD factors ({@code lora_A.weight}, {@code
 * lora_B.weight}), so a saved adapter
 * does not depend on recomputing the SVD; the SVD options are recorded for reference.
 */
public final class LoraXsMethod implements AdapterMethod {

    /** Creates the method (the registry instantiates it). */
    public LoraXsMethod() {}

    @Override
    public String name() {
        return "loraxs";
    }

    @Override
    public Class<LoraXsConfig> configType() {
        return LoraXsConfig.class;
    }

    @Override
    public Set<String> peftTypes() {
        return Set.of("LORAXS");
    }

    @Override
    public Map<String, Object> toFields(AdapterConfig config) {
        LoraXsConfig x = AdapterMethod.cast(LoraXsConfig.class, config);
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("r", x.r());
        o.put("lora_alpha", FieldValues.number(x.loraAlpha()));
        o.put("lora_dropout", FieldValues.decimal(x.loraDropout()));
        o.put("init_std", FieldValues.decimal(x.initStd()));
        o.put("svd_oversamples", x.svd().oversamples());
        o.put("svd_n_iter", x.svd().powerIterations());
        o.put("svd_random_state", x.svd().seed());
        o.put("svd_float64", x.svd().preferFloat64());
        o.put("rank_pattern", new LinkedHashMap<>(x.rankPattern()));
        o.put("alpha_pattern", FieldValues.numbers(x.alphaPattern()));
        o.put("bias", "none");
        return o;
    }

    @Override
    public LoraXsConfig fromFields(ConfigFields j, TargetSpec targets) {
        RandomizedSvd.Options d = RandomizedSvd.Options.of(1);
        LoraXsConfig.Builder b = LoraXsConfig.builder()
                .r(j.integer("r", 8))
                .loraAlpha(j.number("lora_alpha", 16))
                .loraDropout(j.number("lora_dropout", 0))
                .initStd(j.number("init_std", 1e-5f))
                .svd(new RandomizedSvd.Options(
                        1,
                        j.integer("svd_oversamples", d.oversamples()),
                        j.integer("svd_n_iter", d.powerIterations()),
                        j.longValue("svd_random_state", d.seed()),
                        j.bool("svd_float64", d.preferFloat64())));
        j.intMap("rank_pattern").forEach(b::rankPattern);
        j.floatMap("alpha_pattern").forEach(b::alphaPattern);
        return b.targets(targets).build();
    }

    @Override
    public Map<String, Shape> stateShapes(AdapterConfig config, String path, long out, long in) {
        int r = AdapterMethod.cast(LoraXsConfig.class, config).rankFor(path);
        Map<String, Shape> m = new LinkedHashMap<>();
        m.put(LoraXsAdapter.A, new Shape(r, in));
        m.put(LoraXsAdapter.B, new Shape(out, r));
        m.put(LoraXsAdapter.R, new Shape(r, r));
        return m;
    }

    @Override
    public LinearAdapter restore(
            AdapterConfig config, String path, Map<String, NDArray> state, NDArray weight, NDManager manager) {
        LoraXsConfig x = AdapterMethod.cast(LoraXsConfig.class, config);
        return LoraXsAdapter.restore(state, x.scalingFor(path), x.loraDropout(), manager);
    }
}
