package dev.delora.core.array;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * Adam's first and second moments and step count of one parameter, shared by the AdamW of the trainer and SoRA's
 * gate optimizer. Mutable; owned by one optimizer.
 */
public final class AdamMoments {

    private final NDArray m;
    private final NDArray v;
    private long step;

    private AdamMoments(NDArray m, NDArray v) {
        this.m = m;
        this.v = v;
    }

    /**
     * Returns the first moment m.
     *
     * @return m, the parameter's shape
     */
    public NDArray m() {
        return m;
    }

    /**
     * Returns the second moment v.
     *
     * @return v, the parameter's shape
     */
    public NDArray v() {
        return v;
    }

    /**
     * Counts one more step and returns it (the t of the bias corrections).
     *
     * @return the new step count, 1 at the first step
     */
    public long nextStep() {
        return ++step;
    }

    /**
     * Creates zero moments for a parameter array.
     *
     * @param array the parameter's values {@code [...]}
     * @param owner the optimizer's state manager, which owns the moments
     * @return the moments
     */
    public static AdamMoments zerosLike(NDArray array, NDManager owner) {
        NDArray m = array.zerosLike();
        m.attach(owner);
        NDArray v = array.zerosLike();
        v.attach(owner);
        return new AdamMoments(m, v);
    }
}
