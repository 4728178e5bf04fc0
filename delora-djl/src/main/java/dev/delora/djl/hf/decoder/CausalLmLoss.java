package dev.delora.djl.hf.decoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.types.DataType;

/**
 * transformers' causal-LM loss ({@code ForCausalLMLoss}): the logits at position {@code t} predict the label at
 * {@code t + 1}, labels {@value #IGNORE_INDEX} are not counted, and the loss is the mean cross entropy over the counted
 * tokens. Usable as {@code AdapterTrainer}'s loss: {@code (out, labels) -> CausalLmLoss.compute(out.head(), labels)}.
 */
public final class CausalLmLoss {

    /** The label that is not counted (padding, prompt tokens). */
    public static final int IGNORE_INDEX = -100;

    private CausalLmLoss() {}

    /**
     * Computes the mean next-token cross entropy.
     *
     * @param logits (B, T, vocab)
     * @param labels (B, T) token ids, {@value #IGNORE_INDEX} where not counted
     * @return a scalar (NaN when no token is counted, as PyTorch's mean over nothing)
     */
    public static NDArray compute(NDArray logits, NDArray labels) {
        if (logits.getShape().dimension() != 3
                || labels.getShape().dimension() != 2
                || logits.getShape().get(0) != labels.getShape().get(0)
                || logits.getShape().get(1) != labels.getShape().get(1)) {
            throw new IllegalArgumentException("logits must be (B, T, vocab) and labels (B, T); got "
                    + logits.getShape() + " and " + labels.getShape());
        }
        NDArray shiftLogits = logits.get(":, :-1, :");
        NDArray shiftLabels = labels.toType(DataType.INT64, false).get(":, 1:");
        NDArray counted = shiftLabels.neq((long) IGNORE_INDEX);
        NDArray safe = NDArrays.where(counted, shiftLabels, shiftLabels.zerosLike());
        NDArray logp = shiftLogits.toType(DataType.FLOAT32, false).logSoftmax(-1);
        NDArray picked = logp.gather(safe.expandDims(2), 2).squeeze(2);
        NDArray weights = counted.toType(DataType.FLOAT32, false);
        return picked.mul(weights).sum().neg().div(weights.sum());
    }
}
