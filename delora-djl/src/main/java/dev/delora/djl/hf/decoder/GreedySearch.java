package dev.delora.djl.hf.decoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dev.delora.core.array.GradMode;
import java.util.Arrays;
import java.util.Random;

/**
 * Greedy or sampled decoding with the KV cache, step for step as transformers' {@code generate}: the prompt runs
 * once with position ids {@code cumsum(mask) - 1} (1 at masked positions), then each step feeds the chosen token
 * with the mask extended by a one and position {@code sum(mask) - 1}. Rows that produced an eos id get the pad id
 * afterwards ({@code next = next * unfinished + pad * (1 - unfinished)}); the loop ends when all rows are finished.
 * Every step runs in its own manager; only the cache, the mask and the chosen tokens outlive it.
 */
final class GreedySearch {

    private GreedySearch() {}

    static Generated run(
            CausalLm lm,
            NDArray inputIds,
            NDArray attentionMask,
            int maxNewTokens,
            GenerationSettings settings,
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
        boolean sample = settings != null && settings.doSample();
        boolean stopsAtEos = settings != null && settings.stopsEarly();
        Random rng = !sample ? null : settings.seed() == null ? new Random() : new Random(settings.seed());
        boolean[] finished = new boolean[(int) batch];
        int[] lengths = new int[(int) batch];
        long[][] rows =
                new long[(int) batch][stopsAtEos && !settings.stopStrings().isEmpty() ? maxNewTokens : 0];
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
                    NDArray chosen = sample
                            ? stepManager.create(Sampling.draw(
                                    Sampling.warp(last, settings.temperature(), settings.topK(), settings.topP()), rng))
                            : last.argMax(-1);
                    appended = hook.select(step, last, chosen).toType(DataType.INT64, false);
                    if (stopsAtEos) {
                        appended = padFinished(appended, settings, finished, lengths, rows, step, stepManager);
                    } else {
                        Arrays.fill(lengths, step + 1);
                    }
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
                if (allTrue(finished) || hook.stop(step, appended)) {
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
            return new Generated(tokenArray, logitArray, lengths);
        }
    }

    /**
     * Replaces the tokens of rows finished before this step by the pad id, then marks the rows whose token is an
     * eos id, or whose text now holds a stop string, as finished; the others' lengths become {@code step + 1}.
     */
    private static NDArray padFinished(
            NDArray appended,
            GenerationSettings settings,
            boolean[] finished,
            int[] lengths,
            long[][] rows,
            int step,
            NDManager stepManager) {
        long[] v = appended.toLongArray();
        boolean changed = false;
        for (int r = 0; r < v.length; r++) {
            if (finished[r]) {
                changed |= v[r] != settings.effectivePadTokenId();
                v[r] = settings.effectivePadTokenId();
            } else {
                lengths[r] = step + 1;
                finished[r] = settings.isEos(v[r]);
                if (!finished[r] && rows[r].length > 0) {
                    rows[r][step] = v[r];
                    finished[r] = settings.hitsStopString(Arrays.copyOf(rows[r], step + 1));
                }
            }
        }
        return changed ? stepManager.create(v) : appended;
    }

    private static boolean allTrue(boolean[] a) {
        for (boolean b : a) {
            if (!b) {
                return false;
            }
        }
        return a.length > 0;
    }

    /** An int64 copy owned by {@code manager}. */
    private static NDArray owned(NDArray a, NDManager manager) {
        NDArray copy = a.toType(DataType.INT64, true);
        copy.attach(manager);
        return copy;
    }
}
