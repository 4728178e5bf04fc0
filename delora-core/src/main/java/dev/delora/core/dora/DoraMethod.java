package dev.delora.core.dora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.core.LoraFactors;
import dev.delora.core.lora.LoraAdapter;
import dev.delora.core.lora.LoraConfig;
import dev.delora.core.lora.LoraMethod;
import dev.delora.core.method.AdapterMethod;
import dev.delora.core.method.ConfigFields;
import dev.delora.core.target.TargetSpec;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * DoRA's PEFT format: a LoRA file ({@code peft_type: "LORA"}) with {@code use_dora: true}, whose state dict adds
 * {@code <module>.lora_magnitude_vector [out]} to each module's {@code lora_A.weight} and {@code lora_B.weight}.
 * Training needs nothing beyond a plain optimizer over A, B and the magnitude, as in PEFT.
 */
public final class DoraMethod implements AdapterMethod {

    /** Creates the method (the registry instantiates it). */
    public DoraMethod() {}

    @Override
    public String name() {
        return "dora";
    }

    @Override
    public Class<DoraConfig> configType() {
        return DoraConfig.class;
    }

    @Override
    public Set<String> peftTypes() {
        return Set.of("LORA");
    }

    @Override
    public boolean accepts(ConfigFields fields) {
        return Boolean.TRUE.equals(fields.get("use_dora"));
    }

    @Override
    public Map<String, Object> toFields(AdapterConfig config) {
        return LoraMethod.fields(AdapterMethod.cast(DoraConfig.class, config).lora(), true);
    }

    /** Reads LoRA's fields; {@code use_dora} may be absent (a program or command line that names this method). */
    @Override
    public DoraConfig fromFields(ConfigFields fields, TargetSpec targets) {
        fields.requireAbsentOrValue("use_dora", true, "use_dora=false is a plain LoRA (method 'lora')");
        return new DoraConfig(LoraMethod.readFields(fields, targets));
    }

    @Override
    public Map<String, Shape> stateShapes(AdapterConfig config, String path, long out, long in) {
        int r = AdapterMethod.cast(DoraConfig.class, config).rankFor(path);
        Map<String, Shape> m = new LinkedHashMap<>();
        m.put(LoraAdapter.A, new Shape(r, in));
        m.put(LoraAdapter.B, new Shape(out, r));
        m.put(DoraAdapter.MAGNITUDE, new Shape(out));
        return m;
    }

    @Override
    public LinearAdapter restore(
            AdapterConfig config, String path, Map<String, NDArray> state, NDArray weight, NDManager manager) {
        LoraConfig l = AdapterMethod.cast(DoraConfig.class, config).lora();
        // LoraFactors is only a holder here: fromFactors copies, the caller closes the state arrays
        LoraFactors f = new LoraFactors(state.get(LoraAdapter.A), state.get(LoraAdapter.B), l.scalingFor(path));
        LoraAdapter lora = LoraAdapter.fromFactors(f, l.loraDropout(), manager);
        return DoraAdapter.restore(lora, state.get(DoraAdapter.MAGNITUDE), l.loraDropout(), manager);
    }
}
