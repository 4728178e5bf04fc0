package dev.delora.djl.hf.decoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dev.delora.core.array.GradMode;

/**
 * Greedy decoding with the KV cache, step for step as transformers' {@code generate}: the prompt runs once with
 * position ids {@code cumsum(mask) - 1} (1 at masked positions), then each step feeds the chosen token with the
 * mask extended by a one and position {@code sum(mask) - 1}. Every step runs in its own manager; only the cache,
 * the mask and the chosen tokens outlive it.
 */
final class GreedySearch {

    private GreedySearch() {}

    static Generated run(
            CausalLm lm,
            NDArray inputIds,
            NDArray attentionMask,
            int maxNewTokens,
            GenerationHook hook,
            boolean keepStepLogits) {
        if (maxNewTokens < 0) {
            throw new IllegalArgumentException("maxNewTokens must be >= 0, got " + maxNewTokens);
        }
        Shape shape = inputIds.getShape();
        if (shape.dimension() != 2 || !shape.equals(attentionMask.getShape())) {
            throw new IllegalArgumentException("input_ids " + shape + " and attention_mask " + attentionMask.getShape()
                    + " must both be (batch, seq)");
        }
        long batch = shape.get(0);
        NDManager caller = inputIds.getManager();
        try (GradMode off = GradMode.off();
                NDManager gen = caller.newSubManager()) {
            ParameterStore ps = new ParameterStore(gen, false);
            NDArray mask = owned(attentionMask, gen);
            NDArray stepIds = owned(inputIds, gen);
            NDArray stepPositions;
            try (NDArray count = mask.cumSum(1);
                    NDArray positions = count.sub(1L);
                    NDArray padded = mask.eq(0L);
                    NDArray ones = positions.onesLike()) {
                stepPositions = NDArrays.where(padded, ones, positions);
            }
            NDList tokens = new NDList();
            NDList logits = new NDList();
            KvCache cache = null;
            for (int step = 0; step < maxNewTokens; step++) {
                NDArray appended;
                KvCache next;
                try (NDManager stepManager = gen.newSubManager()) {
                    NDArray ids = stepIds.duplicate();
                    ids.attach(stepManager);
                    CausalLm.Output out = lm.forward(ps, ids, mask, stepPositions, cache, false);
                    NDArray last = out.logits().get(":, -1, :");
                    NDArray chosen = last.argMax(-1);
                    appended = hook.select(step, last, chosen).toType(DataType.INT64, false);
                    appended.attach(gen);
                    next = out.cache();
                    next.attach(gen);
                    if (keepStepLogits) {
                        last.attach(gen);
                        logits.add(last);
                    }
                }
                if (cache != null) {
                    cache.close();
                }
                cache = next;
                tokens.add(appended);
                if (hook.stop(step, appended)) {
                    break;
                }
                // the grown mask, the next position and the next input replace the old ones (closed, so a long
                // generation keeps one of each rather than one per step)
                NDArray grown;
                NDArray position;
                try (NDArray ones = gen.ones(new Shape(batch, 1), DataType.INT64, mask.getDevice())) {
                    grown = NDArrays.concat(new NDList(mask, ones), 1);
                }
                try (NDArray count = grown.sum(new int[] {1}, true)) {
                    position = count.sub(1L);
                }
                NDArray nextIds = appended.reshape(batch, 1);
                mask.close();
                stepPositions.close();
                stepIds.close();
                mask = grown;
                stepPositions = position;
                stepIds = nextIds;
            }
            NDArray tokenArray = tokens.isEmpty()
                    ? gen.zeros(new Shape(batch, 0), DataType.INT64, inputIds.getDevice())
                    : NDArrays.stack(tokens, 1);
            tokenArray.attach(caller);
            NDArray logitArray = null;
            if (keepStepLogits && !logits.isEmpty()) {
                logitArray = NDArrays.stack(logits, 1);
                logitArray.attach(caller);
            }
            return new Generated(tokenArray, logitArray);
        }
    }

    /** An int64 copy owned by {@code manager}. */
    private static NDArray owned(NDArray a, NDManager manager) {
        NDArray copy = a.toType(DataType.INT64, true);
        copy.attach(manager);
        return copy;
    }
}
