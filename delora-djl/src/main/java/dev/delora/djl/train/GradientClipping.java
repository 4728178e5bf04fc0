package dev.delora.djl.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Global-norm gradient clipping, as {@code torch.nn.utils.clip_grad_norm_} (DJL's {@code optClipGrad} only clamps
 * element-wise).
 */
public final class GradientClipping {

    private GradientClipping() {}

    /**
     * Scales all gradients in place so that their joint L2 norm is at most {@code maxNorm}: total = ‖(‖g_1‖, …)‖₂,
     * coef = maxNorm / (total + 1e-6), clamped to 1, every gradient multiplied by coef (also when coef is 1, as torch
     * does; it is exact).
     *
     * @param parameters the trainable parameters; frozen ones are skipped
     * @param maxNorm the largest allowed total norm, &gt; 0
     * @return the total norm before clipping
     */
    public static double clipGradNorm(Collection<Parameter> parameters, double maxNorm) {
        if (!(maxNorm > 0)) {
            throw new IllegalArgumentException("clipGradNorm maxNorm must be > 0, got " + maxNorm);
        }
        List<Parameter> trainable = new ArrayList<>();
        Set<Parameter> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Parameter p : parameters) {
            if (p.requiresGradient() && seen.add(p)) {
                trainable.add(p);
            }
        }
        if (trainable.isEmpty()) {
            return 0.0;
        }
        NDArray first = trainable.get(0).getArray();
        try (NDManager scope = NDManager.newBaseManager(first.getDevice())) {
            List<NDArray> grads = new ArrayList<>();
            NDArray sumSq = null;
            for (Parameter p : trainable) {
                // Lent to the scope so the gradient wrapper and temporaries never touch the model's manager.
                p.getArray().tempAttach(scope);
                NDArray g = p.getArray().getGradient();
                grads.add(g);
                // torch takes per-tensor L2 norms, then the L2 norm of those: same order here.
                NDArray n = g.norm();
                NDArray sq = n.mul(n);
                sumSq = sumSq == null ? sq : sumSq.add(sq.toDevice(sumSq.getDevice(), false));
            }
            NDArray total = sumSq.sqrt();
            double totalNorm = total.getFloat();
            NDArray coef = scope.create((float) maxNorm)
                    .toDevice(total.getDevice(), false)
                    .div(total.add(1e-6f))
                    .minimum(1f);
            for (NDArray g : grads) {
                g.muli(coef.toDevice(g.getDevice(), false));
            }
            return totalNorm;
        }
    }
}
