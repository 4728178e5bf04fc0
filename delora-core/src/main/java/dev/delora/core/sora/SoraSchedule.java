package dev.delora.core.sora;

/** The reference's sparsifying schedules of ξ ({@code SparseAdamW._build_lambda_list}). */
public enum SoraSchedule {
    /** {@code np.linspace(ξ0, max, n)}. */
    LINEAR,
    /** {@code np.log(np.linspace(e^ξ0, e^max, n))}. */
    LOG_LINEAR,
    /** {@code np.exp(np.linspace(log ξ0, log max, n))}. */
    EXP_LINEAR;

    /**
     * Parses the reference's names {@code linear}, {@code log_linear}, {@code exp_linear}.
     *
     * @param name the name
     * @return the schedule
     * @throws IllegalArgumentException listing the known names
     */
    public static SoraSchedule parse(String name) {
        for (SoraSchedule k : values()) {
            if (k.name().toLowerCase(java.util.Locale.ROOT).equals(name)) {
                return k;
            }
        }
        throw new IllegalArgumentException(
                "Unknown sparsity schedule '" + name + "'; expected one of linear, log_linear, exp_linear");
    }
}
