package dev.delora.benchmarks;

import dev.delora.core.AdapterConfig;
import dev.delora.core.delora.DeloraConfig;
import dev.delora.core.delora.DeloraInit;
import dev.delora.core.lora.LoraConfig;
import dev.delora.core.loraxs.LoraXsConfig;
import dev.delora.core.sora.SoraConfig;
import java.util.Arrays;
import java.util.Locale;

/**
 * The configurations benchmarked: the frozen base and each adapter method at PEFT-comparable settings (no adapter
 * dropout, so both sides do the same work). The names are the keys of the JSON results on both sides.
 */
public enum Method {
    /** No adapter: the frozen base (plain {@code Linear}; in training, only the head and embedding LayerNorm). */
    BASE("base"),
    /** LoRA, α = 2r. */
    LORA("lora"),
    /** DeLoRA with PEFT's initialisation (B = 0), λ = 15: the same forward as PEFT's {@code DeloraLayer}. */
    DELORA("delora"),
    /** DeLoRA with the paper's initialisation (frozen copies C, D: rank-2r matmuls). */
    DELORA_PAPER("delora-paper"),
    /** LoRA-XS, α = 2r (randomized SVD at injection; not timed). */
    LORAXS("loraxs"),
    /** SoRA, α = 2r; in training also η·mean|g| and the gate's sparse AdamW step. */
    SORA("sora");

    private final String key;

    Method(String key) {
        this.key = key;
    }

    /**
     * Returns the name used on the command line and in the JSON results.
     *
     * @return e.g. {@code delora-paper}
     */
    public String key() {
        return key;
    }

    /**
     * Finds a method by its key.
     *
     * @param key e.g. {@code lora}
     * @return the method
     * @throws IllegalArgumentException naming the known keys
     */
    public static Method of(String key) {
        for (Method m : values()) {
            if (m.key.equals(key.trim().toLowerCase(Locale.ROOT))) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown method '" + key + "'; expected one of "
                + Arrays.stream(values()).map(Method::key).toList());
    }

    /**
     * Builds the adapter configuration.
     *
     * @param r the rank
     * @param modulesToSave modules trained in full (the head), may be empty
     * @param targets target module names
     * @return the configuration
     * @throws IllegalStateException for {@link #BASE}, which has no adapter
     */
    public AdapterConfig config(int r, String[] modulesToSave, String... targets) {
        return switch (this) {
            case BASE -> throw new IllegalStateException("the base has no adapter");
            case LORA -> LoraConfig.builder().r(r).loraAlpha(2 * r).loraDropout(0).targetModules(targets)
                    .modulesToSave(modulesToSave).build();
            case DELORA -> DeloraConfig.builder().r(r).deloraLambda(15).moduleDropout(0).init(DeloraInit.ZERO_B)
                    .targetModules(targets).modulesToSave(modulesToSave).build();
            case DELORA_PAPER -> DeloraConfig.builder().r(r).deloraLambda(15).moduleDropout(0).init(DeloraInit.PAPER)
                    .targetModules(targets).modulesToSave(modulesToSave).build();
            case LORAXS -> LoraXsConfig.builder().r(r).loraAlpha(2 * r).loraDropout(0).targetModules(targets)
                    .modulesToSave(modulesToSave).build();
            case SORA -> SoraConfig.builder().r(r).loraAlpha(2 * r).loraDropout(0).targetModules(targets)
                    .modulesToSave(modulesToSave).build();
        };
    }
}
