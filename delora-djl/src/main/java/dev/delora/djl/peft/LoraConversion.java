package dev.delora.djl.peft;

import dev.delora.core.lora.LoraConfig;
import java.util.Map;

/**
 * The outcome of replacing an adapter by its exact plain-LoRA form.
 *
 * @param config a LoRA config reproducing the converted adapter (per-module rank and α in its patterns)
 * @param ranksBefore rank per module before the conversion
 * @param ranksAfter rank per module after it (smaller for pruned SoRA gates, 2r for paper-mode DeLoRA)
 * @param parametersBefore trainable adapter scalars before
 * @param parametersAfter adapter scalars after
 */
public record LoraConversion(
        LoraConfig config,
        Map<String, Integer> ranksBefore,
        Map<String, Integer> ranksAfter,
        long parametersBefore,
        long parametersAfter) {

    /** Copies the maps. */
    public LoraConversion {
        ranksBefore = Map.copyOf(ranksBefore);
        ranksAfter = Map.copyOf(ranksAfter);
    }
}
