package dev.delora.core.method;

import java.util.Objects;
import java.util.function.Predicate;

/**
 * A rule that puts parameters into an optimizer group with its own learning rate and weight decay, like one entry
 * of torch's {@code param_groups}.
 *
 * <p>The learning rate is either absolute ({@code absoluteLr} set, e.g. DeLoRA's λ rate) or a multiple of the base
 * rate the optimizer is built with ({@code lrMultiplier}, 1 for "the adapter rate"). The schedule factor multiplies
 * either, as torch's {@code LambdaLR} multiplies every group's initial lr.
 *
 * @param name a label for logs and errors
 * @param selector predicate over the dotted parameter name ({@code roberta.encoder.layer.0...delora_lambda.default})
 * @param absoluteLr the group's own learning rate, or {@code NaN} to use {@code lrMultiplier × base lr}
 * @param lrMultiplier multiplier of the base lr (ignored when {@code absoluteLr} is set)
 * @param weightDecay decoupled weight decay, ≥ 0
 */
public record ParameterGroup(
        String name, Predicate<String> selector, double absoluteLr, double lrMultiplier, double weightDecay) {

    /** Validates names, rates and decay. */
    public ParameterGroup {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(selector, "selector");
        if (!Double.isNaN(absoluteLr) && (absoluteLr < 0 || Double.isInfinite(absoluteLr))) {
            throw new IllegalArgumentException(
                    "Parameter group '" + name + "': lr must be finite and >= 0, got " + absoluteLr);
        }
        if (!(lrMultiplier >= 0) || Double.isInfinite(lrMultiplier)) {
            throw new IllegalArgumentException(
                    "Parameter group '" + name + "': lr multiplier must be finite and" + " >= 0, got " + lrMultiplier);
        }
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException(
                    "Parameter group '" + name + "': weight decay must be finite and" + " >= 0, got " + weightDecay);
        }
    }

    /**
     * A group trained at the base learning rate.
     *
     * @param name label
     * @param selector name predicate
     * @param weightDecay decoupled weight decay
     * @return the group
     */
    public static ParameterGroup atBaseLr(String name, Predicate<String> selector, double weightDecay) {
        return new ParameterGroup(name, selector, Double.NaN, 1.0, weightDecay);
    }

    /**
     * A group with its own absolute learning rate.
     *
     * @param name label
     * @param selector name predicate
     * @param lr the group's learning rate (before the schedule factor)
     * @param weightDecay decoupled weight decay
     * @return the group
     */
    public static ParameterGroup withLr(String name, Predicate<String> selector, double lr, double weightDecay) {
        return new ParameterGroup(name, selector, lr, 1.0, weightDecay);
    }

    /**
     * A group at a multiple of the base learning rate.
     *
     * @param name label
     * @param selector name predicate
     * @param multiplier factor applied to the base lr
     * @param weightDecay decoupled weight decay
     * @return the group
     */
    public static ParameterGroup scaled(
            String name, Predicate<String> selector, double multiplier, double weightDecay) {
        return new ParameterGroup(name, selector, Double.NaN, multiplier, weightDecay);
    }

    /**
     * The group's learning rate before the schedule factor.
     *
     * @param baseLr the optimizer's base learning rate
     * @return {@code absoluteLr}, or {@code lrMultiplier × baseLr}
     */
    public double initialLr(double baseLr) {
        return Double.isNaN(absoluteLr) ? lrMultiplier * baseLr : absoluteLr;
    }
}
