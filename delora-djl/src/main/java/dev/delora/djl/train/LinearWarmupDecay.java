package dev.delora.djl.train;

/**
 * Linear warmup from 0 then linear decay to 0: transformers' {@code get_linear_schedule_with_warmup}, including its
 * behaviour for a fractional warmup (DeLoRA passes {@code 0.06·len(loader)·epochs} unrounded).
 *
 * <p>As in transformers, step 0 has factor 0: the first optimizer step runs at lr 0 but still advances Adam's moments
 * and step count.
 *
 * @param warmupSteps warmup length, may be fractional, ≥ 0
 * @param totalSteps total number of optimizer steps, ≥ 1
 */
public record LinearWarmupDecay(double warmupSteps, int totalSteps) implements LrSchedule {

    /** Validates the lengths. */
    public LinearWarmupDecay {
        if (!(warmupSteps >= 0) || Double.isInfinite(warmupSteps)) {
            throw new IllegalArgumentException(
                    "LinearWarmupDecay warmupSteps must be finite and >= 0, got " + warmupSteps);
        }
        if (totalSteps < 1) {
            throw new IllegalArgumentException("LinearWarmupDecay totalSteps must be >= 1, got " + totalSteps);
        }
    }

    /**
     * Warmup as a fraction of the total, unrounded, as the DeLoRA reference computes it.
     *
     * @param warmupRatio e.g. 0.06
     * @param totalSteps total optimizer steps
     * @return the schedule
     */
    public static LinearWarmupDecay ofRatio(double warmupRatio, int totalSteps) {
        if (!(warmupRatio >= 0 && warmupRatio <= 1)) {
            throw new IllegalArgumentException("warmupRatio must be in [0, 1], got " + warmupRatio);
        }
        return new LinearWarmupDecay(warmupRatio * totalSteps, totalSteps);
    }

    @Override
    public double factor(int step) {
        // Same comparisons and max(1, ·) guards as transformers' _get_linear_schedule_with_warmup_lr_lambda.
        if (step < warmupSteps) {
            return (double) step / Math.max(1.0, warmupSteps);
        }
        return Math.max(0.0, (totalSteps - step) / Math.max(1.0, totalSteps - warmupSteps));
    }
}
