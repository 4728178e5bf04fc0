package dev.delora.core.sora;

/** The reference's sparsifying schedules of ξ ({@code SparseAdamW._build_lambda_list}). */
public enum SoraSchedule {
    /** {@code np.linspace(ξ0, max, n)}. */
    LINEAR,
    /** {@code np.log(np.linspace(e^ξ0, e^max, n))}. */
    LOG_LINEAR,
    /** {@code np.exp(np.linspace(log ξ0, log max, n))}. */
    EXP_LINEAR
}
