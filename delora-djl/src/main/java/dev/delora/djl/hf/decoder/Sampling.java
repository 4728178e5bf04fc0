package dev.delora.djl.hf.decoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.Random;

/**
 * Sampling as transformers' {@code generate(do_sample=True)}: {@code TemperatureLogitsWarper},
 * {@code TopKLogitsWarper} and {@code TopPLogitsWarper} (min_tokens_to_keep 1, filtered logits {@code -inf}) in that
 * order, then softmax and one categorical draw per row from a {@link Random}.
 */
final class Sampling {

    private Sampling() {}

    /**
     * Applies the warpers that change anything: temperature when not 1, top-k when {@code topK > 0}, top-p when
     * {@code topP < 1}.
     *
     * @param scores (B, vocab) float32 logits
     * @return the processed scores (B, vocab), {@code -inf} where filtered, on {@code scores}' manager
     */
    static NDArray warp(NDArray scores, float temperature, int topK, float topP) {
        NDArray s = temperature != 1f ? scores.div(temperature) : scores;
        long vocab = s.getShape().getLastDimension();
        if (topK > 0) {
            int k = (int) Math.min(topK, vocab);
            // the k-th largest value (ascending sort, index vocab - k); values equal to it stay, as torch.topk's
            NDArray kth = s.sort(-1).get(":, " + (vocab - k) + ":" + (vocab - k + 1));
            s = NDArrays.where(s.lt(kth), minusInf(s), s);
        }
        if (topP < 1f) {
            NDArray order = s.argSort(-1, true);
            NDArray cumulative = s.gather(order, -1).softmax(-1).cumSum(-1);
            NDManager m = s.getManager();
            // kept: cumulative probability above 1 - top_p, and always the largest (the last sorted) entry
            NDArray notLast =
                    m.arange(0, vocab, 1, DataType.INT64, s.getDevice()).lt(vocab - 1);
            NDArray removeSorted = cumulative.lte((float) (1.0 - topP)).logicalAnd(notLast);
            // back to vocabulary order: gather with the inverse permutation
            NDArray remove = removeSorted.gather(order.argSort(-1, true), -1);
            s = NDArrays.where(remove, minusInf(s), s);
        }
        return s;
    }

    private static NDArray minusInf(NDArray like) {
        return like.getManager().full(like.getShape(), Float.NEGATIVE_INFINITY, like.getDataType(), like.getDevice());
    }

    /**
     * Draws one token per row from {@code softmax(warped)}.
     *
     * @param warped (B, vocab) processed scores
     * @param rng the random source (one {@code nextDouble} per row)
     * @return the tokens (B)
     */
    static long[] draw(NDArray warped, Random rng) {
        long batch = warped.getShape().get(0);
        int vocab = (int) warped.getShape().getLastDimension();
        float[] probs = warped.softmax(-1).toType(DataType.FLOAT32, false).toFloatArray();
        long[] tokens = new long[(int) batch];
        for (int r = 0; r < batch; r++) {
            tokens[r] = categorical(probs, r * vocab, vocab, rng.nextDouble());
        }
        return tokens;
    }

    /**
     * Returns the index {@code i} in {@code [0, n)} with {@code sum(p[off..off+i)) <= u * total < sum(p[off..off+i])},
     * skipping zero probabilities (so a filtered token is never drawn).
     */
    static int categorical(float[] p, int off, int n, double u) {
        double total = 0;
        for (int i = 0; i < n; i++) {
            total += p[off + i];
        }
        double target = u * total;
        double cumulative = 0;
        int last = -1;
        for (int i = 0; i < n; i++) {
            float pi = p[off + i];
            if (pi > 0) {
                cumulative += pi;
                last = i;
                if (target < cumulative) {
                    return i;
                }
            }
        }
        if (last < 0) {
            throw new IllegalStateException("no token has a positive probability (all logits filtered or NaN)");
        }
        return last;
    }
}
