package dev.delora.djl.peft;

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
}
