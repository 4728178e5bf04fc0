package dev.delora.examples.robustness;

import java.util.Locale;

/**
 * A finished cell, as its {@code cell.json} holds it.
 *
 * @param method the method
 * @param multiplier the learning-rate multiplier
 * @param lr the learning rate
 * @param seed the seed
 * @param metric the task's selection metric name
 * @param metricAtBest the test metric at the best validation epoch (GlueRunner's {@code testAtBest}, a fraction), or
 *     {@code null} when no epoch beat 0 or training diverged
 * @param bestEpoch the best validation epoch (0 if none)
 * @param finalDistance the last {@code total} of the distance log, or {@code null} if non-finite or missing
 * @param seconds the wall time of the cell
 * @param diverged the trainer's message when the loss became non-finite, else {@code null}
 */
public record CellResult(
        String method,
        double multiplier,
        double lr,
        int seed,
        String metric,
        Double metricAtBest,
        int bestEpoch,
        Double finalDistance,
        double seconds,
        String diverged) {

    /** Whether this result belongs to the cell (a stale or foreign {@code cell.json} does not). */
    boolean matches(GridCell c, String metricName) {
        return c.method().equals(method)
                && c.multiplier() == multiplier
                && c.seed() == seed
                && c.lr() == lr
                && metricName.equals(metric)
                && seconds >= 0;
    }

    /** One line for the progress output. */
    String describe() {
        String m = diverged != null
                ? "diverged"
                : metricAtBest == null
                        ? metric + " - (no epoch beat 0)"
                        : String.format(
                                Locale.ROOT,
                                "%s %s at best validation epoch %d",
                                metric,
                                RobustnessReport.percent(metricAtBest),
                                bestEpoch);
        return String.format(
                Locale.ROOT,
                "%s x%s seed %d: %s, final distance %s, %.1f s",
                method,
                GridCell.multiplierText(multiplier),
                seed,
                m,
                finalDistance == null ? "non-finite" : RobustnessReport.distance(finalDistance),
                seconds);
    }
}
