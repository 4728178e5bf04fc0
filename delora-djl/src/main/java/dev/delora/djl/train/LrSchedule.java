package dev.delora.djl.train;

/** A learning-rate factor per optimizer step, multiplied into every group's initial lr (torch's {@code LambdaLR}). */
@FunctionalInterface
public interface LrSchedule {

    /**
     * The factor for an optimizer step.
     *
     * @param step the 0-based index of the optimizer step about to run
     * @return the multiplier of each group's initial learning rate
     */
    double factor(int step);

    /**
     * The constant schedule.
     *
     * @return a schedule whose factor is always 1
     */
    static LrSchedule constant() {
        return step -> 1.0;
    }
}
