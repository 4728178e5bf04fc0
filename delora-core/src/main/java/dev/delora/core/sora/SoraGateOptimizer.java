package dev.delora.core.sora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import dev.delora.core.array.AdamMoments;
import dev.delora.core.array.ArrayOps;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * SoRA's gate optimizer ({@code src/sparse_optimizer.py::SparseAdamW}): a bias-corrected Adam step without weight
 * decay, then a proximal L1 threshold ξ that is <b>not</b> scaled by the learning rate.
 *
 * <p>The Adam step is the reference's (transformers' legacy AdamW): {@code step_size = lr·√(1−β2^t)/(1−β1^t)},
 * {@code p ← p − step_size · m/(√v + ε)}. The threshold defaults to the reference's three sequential statements
 * {@code p[p>ξ] -= ξ; p[p<−ξ] += ξ; p[|p|<ξ] = 0}, which zero every |p| &lt; 2ξ (not only |p| ≤ ξ);
 * {@link SoraThreshold#SOFT} applies the textbook {@code sign(p)·max(|p|−ξ, 0)} instead. ξ ≤ 0 skips thresholding.
 */
public final class SoraGateOptimizer implements AutoCloseable {

    private final List<Parameter> gates;
    private final double lr;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final SoraThreshold threshold;
    private final NDManager stateManager;
    private final Map<String, AdamMoments> state = new HashMap<>();
    private double xi;

    /**
     * Creates the gate optimizer.
     *
     * @param gates the gate parameters
     * @param lr the gate learning rate before the schedule factor ({@code sparse_lr}, defaults to lr in SoRA)
     * @param xi the threshold ξ ({@code sparse_lambda_2})
     * @param threshold which proximal map
     */
    public SoraGateOptimizer(Collection<Parameter> gates, double lr, double xi, SoraThreshold threshold) {
        if (gates.isEmpty()) {
            throw new IllegalArgumentException("SoRA's gate optimizer needs at least one gate parameter");
        }
        if (!(lr >= 0) || !(xi >= 0) || Double.isInfinite(lr) || Double.isInfinite(xi)) {
            throw new IllegalArgumentException(
                    "SoRA gate lr and threshold must be finite and >= 0, got lr=" + lr + ", xi=" + xi);
        }
        this.gates = new ArrayList<>(gates);
        this.lr = lr;
        this.xi = xi;
        // transformers' legacy AdamW defaults, which the reference's SparseAdamW inherits
        this.beta1 = 0.9;
        this.beta2 = 0.999;
        this.eps = 1e-6;
        this.threshold = threshold;
        this.stateManager =
                NDManager.newBaseManager(this.gates.get(0).getArray().getDevice());
        stateManager.setName("SoRA gate optimizer state");
    }

    /**
     * SoRA's loss term {@code sparseLambda · Σ|g| / numel(all gates)}.
     *
     * @param gates the gate arrays (the parameters' arrays, so the term is differentiable)
     * @param sparseLambda η ({@code --sparse_lambda})
     * @param manager where the result lives (the step's manager)
     * @return a scalar
     */
    public static NDArray l1Penalty(Collection<NDArray> gates, double sparseLambda, NDManager manager) {
        NDArray sum = null;
        long numel = 0;
        for (NDArray g : gates) {
            // Ops allocate their result in the first operand's manager; lending the gate array to the step's
            // manager keeps the per-step temporaries out of the (long-lived) parameter manager. It goes back when
            // the step's manager closes.
            g.tempAttach(manager);
            NDArray s = g.abs().sum();
            sum = sum == null ? s : sum.add(s);
            numel += g.size();
        }
        if (sum == null) {
            throw new IllegalArgumentException("l1Penalty needs at least one gate");
        }
        return ArrayOps.scaled(sum, (float) (sparseLambda / numel));
    }

    /**
     * The current threshold.
     *
     * @return ξ
     */
    public double threshold() {
        return xi;
    }

    /**
     * Sets the threshold (what the reference's {@code step_lambda} does; see {@link SparsityScheduler}).
     *
     * @param newXi the new ξ ≥ 0
     */
    public void setThreshold(double newXi) {
        if (!(newXi >= 0) || Double.isInfinite(newXi)) {
            throw new IllegalArgumentException("SoRA gate threshold must be finite and >= 0, got " + newXi);
        }
        this.xi = newXi;
    }

    /**
     * The gate parameters.
     *
     * @return the gates
     */
    public List<Parameter> parameters() {
        return List.copyOf(gates);
    }

    /**
     * Adam step plus threshold on every gate, then zeroes their gradients.
     *
     * @param lrFactor schedule factor multiplying the gate lr
     */
    public void step(double lrFactor) {
        double b1 = beta1;
        double b2 = beta2;
        double stepLr = lr * lrFactor;
        try (NDManager tmp = stateManager.newSubManager()) {
            for (Parameter p : gates) {
                NDArray array = p.getArray();
                array.tempAttach(tmp); // keeps wrappers and temporaries out of the model manager
                AdamMoments s = state.computeIfAbsent(p.getId(), id -> AdamMoments.zerosLike(array, stateManager));
                long t = s.nextStep();
                NDArray w = array.stopGradient();
                NDArray g = array.getGradient();
                s.m().tempAttach(tmp);
                s.v().tempAttach(tmp);
                s.m().muli((float) b1).addi(g.mul((float) (1 - b1)));
                s.v().muli((float) b2).addi(g.mul(g).muli((float) (1 - b2)));
                NDArray denom = s.v().sqrt().addi((float) eps);
                double stepSize = stepLr * Math.sqrt(1 - Math.pow(b2, t)) / (1 - Math.pow(b1, t));
                w.addi(s.m().div(denom).muli((float) -stepSize));
                if (xi > 0) {
                    applyThreshold(w, (float) xi, threshold);
                }
                g.muli(0f);
            }
        }
    }

    /**
     * Applies the proximal map in place.
     *
     * @param w the values (modified)
     * @param xi the threshold
     * @param kind which map
     */
    static void applyThreshold(NDArray w, float xi, SoraThreshold kind) {
        DataType type = w.getDataType();
        if (kind == SoraThreshold.REFERENCE) {
            w.subi(w.gt(xi).toType(type, false).muli(xi));
            w.addi(w.lt(-xi).toType(type, false).muli(xi));
            w.muli(w.abs().gte(xi).toType(type, false));
        } else {
            // x − clip(x, −ξ, ξ) equals sign(x)·max(|x|−ξ, 0).
            w.subi(w.clip(-xi, xi));
        }
    }

    /** Frees the optimizer state. */
    @Override
    public void close() {
        stateManager.close();
        state.clear();
    }
}
