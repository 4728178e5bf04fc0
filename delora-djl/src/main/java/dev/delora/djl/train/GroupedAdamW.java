package dev.delora.djl.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import dev.delora.core.array.AdamMoments;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code torch.optim.AdamW} on DJL NDArrays, with parameter groups.
 *
 * <p>Matches torch's single-tensor, non-capturable path step for step: decoupled decay {@code p ← p·(1 − lr·wd)}
 * first, then {@code m ← m + (1−β1)(g − m)}, {@code v ← β2·v + (1−β2)·g²},
 * {@code p ← p − lr/(1−β1^t) · m / (√v/√(1−β2^t) + ε)}. DJL's built-in Adam/AdamW places ε differently (after the
 * bias correction of the step size), which drifts from torch when √v is small, so it is not used.
 *
 * <p>Updates are made in place through {@code stopGradient()} views (they share storage with the parameter), which
 * is legal whatever the thread's grad mode, so {@link #step} works on any thread, outside a GradientCollector. Each
 * step zeroes the gradients of its parameters afterwards, since DJL's PyTorch collector never does. Optimizer state
 * (m, v, t per parameter id) lives in this optimizer's own manager; {@link #close()} frees it.
 */
public final class GroupedAdamW implements AutoCloseable {

    /**
     * Adam's constants.
     *
     * @param beta1 first-moment decay in [0, 1)
     * @param beta2 second-moment decay in [0, 1)
     * @param eps denominator term, &gt; 0
     */
    public record Config(double beta1, double beta2, double eps) {

        /** Validates the constants. */
        public Config {
            if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
                throw new IllegalArgumentException("AdamW betas must be in [0, 1), got (" + beta1 + ", " + beta2 + ")");
            }
            if (!(eps > 0)) {
                throw new IllegalArgumentException("AdamW eps must be > 0, got " + eps);
            }
        }

        /**
         * torch's defaults: betas (0.9, 0.999), eps 1e-8.
         *
         * @return the defaults
         */
        public static Config torchDefaults() {
            return new Config(0.9, 0.999, 1e-8);
        }
    }

    private final List<ParameterGroups.Assigned> groups;
    private final double baseLr;
    private final Config config;
    private final NDManager stateManager;
    private final Map<String, AdamMoments> state = new HashMap<>();
    private final List<Parameter> parameters = new ArrayList<>();
    private long steps;
    private double lastFactor = Double.NaN;

    /**
     * Creates the optimizer over already-assigned groups.
     *
     * @param groups groups with their parameters (see {@link ParameterGroups#assign})
     * @param baseLr the base learning rate groups without an absolute lr scale from
     * @param config Adam constants
     */
    public GroupedAdamW(List<ParameterGroups.Assigned> groups, double baseLr, Config config) {
        if (groups.isEmpty()) {
            throw new IllegalArgumentException("AdamW needs at least one parameter group");
        }
        if (!(baseLr >= 0) || Double.isInfinite(baseLr)) {
            throw new IllegalArgumentException("AdamW base lr must be finite and >= 0, got " + baseLr);
        }
        this.groups = List.copyOf(groups);
        this.baseLr = baseLr;
        this.config = config;
        for (ParameterGroups.Assigned g : groups) {
            parameters.addAll(g.parameters().values());
        }
        this.stateManager =
                NDManager.newBaseManager(parameters.get(0).getArray().getDevice());
        stateManager.setName("AdamW state");
    }

    /**
     * Groups the trainable parameters and creates the optimizer with torch's default betas and eps.
     *
     * @param parameters dotted name to parameter, e.g. {@code BlockTree.parameters(root)}
     * @param grouping the grouping rules
     * @param baseLr the base learning rate
     * @return the optimizer
     */
    public static GroupedAdamW create(Map<String, Parameter> parameters, ParameterGroups grouping, double baseLr) {
        return new GroupedAdamW(grouping.assign(parameters), baseLr, Config.torchDefaults());
    }

    /**
     * The groups, in order.
     *
     * @return the assigned groups
     */
    public List<ParameterGroups.Assigned> groups() {
        return groups;
    }

    /**
     * Every parameter this optimizer updates.
     *
     * @return an unmodifiable list
     */
    public List<Parameter> parameters() {
        return Collections.unmodifiableList(parameters);
    }

    /**
     * The learning rate a group runs at under a schedule factor.
     *
     * @param group index into {@link #groups()}
     * @param factor the schedule factor
     * @return initial lr × factor
     */
    public double learningRate(int group, double factor) {
        return groups.get(group).group().initialLr(baseLr) * factor;
    }

    /**
     * Returns the base learning rate at a schedule factor (what progress lines show).
     *
     * @param factor the schedule factor
     * @return baseLr·factor
     */
    public double baseLearningRate(double factor) {
        return baseLr * factor;
    }

    /**
     * The schedule factor of the last {@link #step}, NaN before the first.
     *
     * @return the factor
     */
    public double lastFactor() {
        return lastFactor;
    }

    /**
     * Number of steps taken.
     *
     * @return the step count
     */
    public long steps() {
        return steps;
    }

    /**
     * One AdamW update of every parameter, then zeroes their gradients.
     *
     * @param lrFactor the schedule factor multiplying each group's initial lr (torch's LambdaLR value)
     */
    public void step(double lrFactor) {
        double b1 = config.beta1();
        double b2 = config.beta2();
        try (NDManager tmp = stateManager.newSubManager()) {
            for (ParameterGroups.Assigned assigned : groups) {
                double lr = assigned.group().initialLr(baseLr) * lrFactor;
                double wd = assigned.group().weightDecay();
                for (Parameter p : assigned.parameters().values()) {
                    NDArray array = p.getArray();
                    // Lent to the step's manager so that the gradient/detached wrappers and every temporary land
                    // there, never in the (possibly capped) model manager; it goes back when tmp closes.
                    array.tempAttach(tmp);
                    AdamMoments s = state.computeIfAbsent(p.getId(), id -> AdamMoments.zerosLike(array, stateManager));
                    long t = s.nextStep();
                    NDArray w = array.stopGradient();
                    NDArray g = array.getGradient();
                    s.m().tempAttach(tmp);
                    s.v().tempAttach(tmp);
                    if (wd != 0) {
                        w.muli((float) (1 - lr * wd));
                    }
                    s.m().addi(g.sub(s.m()).muli((float) (1 - b1)));
                    s.v().muli((float) b2).addi(g.mul(g).muli((float) (1 - b2)));
                    double bc1 = 1 - Math.pow(b1, t);
                    double bc2 = 1 - Math.pow(b2, t);
                    double stepSize = lr / bc1;
                    NDArray denom = s.v().sqrt().divi((float) Math.sqrt(bc2)).addi((float) config.eps());
                    w.subi(s.m().div(denom).muli((float) stepSize));
                    g.muli(0f);
                }
            }
        }
        steps++;
        lastFactor = lrFactor;
    }

    /** Zeroes the gradients of every parameter of this optimizer (e.g. to discard a skipped step). */
    public void zeroGradients() {
        zeroGradients(parameters);
    }

    static void zeroGradients(Iterable<Parameter> params) {
        try (NDManager tmp = NDManager.newBaseManager()) {
            for (Parameter p : params) {
                if (p.requiresGradient()) {
                    p.getArray().tempAttach(tmp);
                    p.getArray().getGradient().muli(0f);
                }
            }
        }
    }

    /**
     * The first and second moments of a parameter, for inspection and checkpoints.
     *
     * @param parameter a parameter of this optimizer
     * @return {m, v}, or null before its first step
     */
    public NDArray[] moments(Parameter parameter) {
        AdamMoments s = state.get(parameter.getId());
        return s == null ? null : new NDArray[] {s.m(), s.v()};
    }

    /** Frees the optimizer state. */
    @Override
    public void close() {
        stateManager.close();
        state.clear();
    }
}
