package dev.delora.core.lora;

/** LoRA's {@code init_lora_weights} choices. */
public enum LoraInit {
    /** {@code true}: A kaiming-uniform(a=√5), B zero (the Microsoft reference); ΔW = 0 at start. */
    DEFAULT,
    /** {@code "gaussian"}: A ~ N(0, 1/r), B zero. */
    GAUSSIAN,
    /** {@code false}: A and B both kaiming-uniform, so ΔW ≠ 0 at start (for tests and debugging). */
    RANDOM;

    /**
     * Returns the value PEFT writes in {@code adapter_config.json}.
     *
     * @return {@code true}, {@code "gaussian"} or {@code false}
     */
    public Object peftValue() {
        return switch (this) {
            case DEFAULT -> Boolean.TRUE;
            case GAUSSIAN -> "gaussian";
            case RANDOM -> Boolean.FALSE;
        };
    }
}
