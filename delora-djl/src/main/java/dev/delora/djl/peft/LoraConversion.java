package dev.delora.djl.peft;

import dev.delora.core.LinearAdapter;
import dev.delora.core.LoraFactors;
import dev.delora.core.lora.LoraAdapter;
import dev.delora.core.lora.LoraConfig;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What {@link AdaptedModel#convertToLora} did: the new config and, per module, the rank and size before and after
 * (SoRA's pruning shows here).
 *
 * @param config the plain-LoRA config now in effect
 * @param ranksBefore module path to rank before
 * @param ranksAfter module path to rank after
 * @param parametersBefore adapter scalars before
 * @param parametersAfter adapter scalars after
 */
public record LoraConversion(
        LoraConfig config,
        Map<String, Integer> ranksBefore,
        Map<String, Integer> ranksAfter,
        long parametersBefore,
        long parametersAfter) {

    /** Copies the maps, keeping module order. */
    public LoraConversion {
        ranksBefore = Collections.unmodifiableMap(new LinkedHashMap<>(ranksBefore));
        ranksAfter = Collections.unmodifiableMap(new LinkedHashMap<>(ranksAfter));
    }

    /** Replaces an adapter by its plain-LoRA form (see {@link AdaptedModel#convertToLora}). */
    static LoraConversion convert(AdaptedModel model, String name) {
        for (AdaptedLinear m : model.adaptedModules().values()) {
            if (m.mergedAdapters().contains(name)) {
                throw new IllegalStateException("Adapter '" + name + "' is merged; unmerge() before converting it");
            }
        }
        Map<String, Integer> before = new LinkedHashMap<>();
        Map<String, Integer> after = new LinkedHashMap<>();
        Map<String, LinearAdapter> converted = new LinkedHashMap<>();
        long paramsBefore = 0;
        long paramsAfter = 0;
        LoraConfig config;
        try (LoraForm form = LoraForm.of(model, name)) {
            config = form.config();
            for (Map.Entry<String, LoraFactors> e : form.factors().entrySet()) {
                LinearAdapter a =
                        model.adaptedModules().get(e.getKey()).adapters().get(name);
                LoraAdapter lora = LoraAdapter.fromFactors(
                        e.getValue(),
                        config.adapterDropout(),
                        model.adaptedModules()
                                .get(e.getKey())
                                .weight()
                                .getArray()
                                .getManager());
                converted.put(e.getKey(), lora);
                before.put(e.getKey(), a.rank());
                after.put(e.getKey(), lora.rank());
                paramsBefore += size(a);
                paramsAfter += size(lora);
            }
        } catch (RuntimeException ex) {
            converted.values().forEach(LinearAdapter::close);
            throw ex;
        }
        converted.forEach((path, lora) -> model.replaceAdapter(path, name, lora));
        model.replaceConfig(name, config);
        return new LoraConversion(config, before, after, paramsBefore, paramsAfter);
    }

    static long size(LinearAdapter a) {
        return a.parameters().values().stream()
                .mapToLong(p -> p.getArray().size())
                .sum();
    }
}
