package dev.delora.core.delora;

/** How a DeLoRA adapter starts so that (or whether) ΔW = 0 at step 0. */
public enum DeloraInit {
    /**
     * PEFT's default ({@code init_weights=true}): A kaiming-uniform, B zero. The first update of B produces unit-norm
     * columns, so ΔW jumps to its λ-bounded size at once.
     */
    ZERO_B,
    /**
     * The paper's official code: A and B kaiming-uniform, and frozen deep copies C = A₀, D = B₀ whose normalised term
     * is subtracted, so ΔW(0) = 0 and ΔW grows smoothly. This is the init that reproduces the paper's GLUE numbers.
     */
    PAPER,
    /** PEFT's {@code init_weights=false}: A and B kaiming-uniform with no correction, so ΔW ≠ 0 at start. */
    RANDOM
}
