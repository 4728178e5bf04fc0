package dev.delora.examples.glue;

import java.util.Arrays;
import java.util.Locale;

/** The adapter methods the GLUE runner can fine-tune with. */
public enum Method {
    /** LoRA (Hu et al., 2022). */
    LORA,
    /** DeLoRA (Bini et al., 2025). */
    DELORA,
    /** LoRA-XS (Bałazy et al., 2024). */
    LORAXS,
    /** SoRA (Ding et al., 2023). */
    SORA;

    /**
     * Parses a method name case-insensitively.
     *
     * @param name e.g. {@code delora}
     * @return the method
     * @throws IllegalArgumentException naming the known methods
     */
    public static Method of(String name) {
        try {
            return valueOf(name.trim().toUpperCase(Locale.ROOT).replace("-", ""));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Unknown method '" + name + "'; expected one of "
                    + Arrays.toString(values()).toLowerCase(Locale.ROOT), e);
        }
    }
}
