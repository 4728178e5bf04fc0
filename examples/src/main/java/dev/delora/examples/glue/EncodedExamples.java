package dev.delora.examples.glue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.delora.djl.hf.HfTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Examples tokenised once, without padding; each batch is padded to its own longest row (dynamic padding, as
 * transformers' {@code DataCollatorWithPadding}).
 */
final class EncodedExamples {

    private static final int CHUNK = 256;

    private final long[][] ids;
    private final long[][] types;
    private final float[] labels;
    private final long padId;

    private EncodedExamples(long[][] ids, long[][] types, float[] labels, long padId) {
        this.ids = ids;
        this.types = types;
        this.labels = labels;
        this.padId = padId;
    }

    static EncodedExamples encode(HfTokenizer tokenizer, List<GlueExample> examples) {
        int n = examples.size();
        long[][] ids = new long[n][];
        long[][] types = new long[n][];
        float[] labels = new float[n];
        for (int start = 0; start < n; start += CHUNK) {
            List<GlueExample> chunk = examples.subList(start, Math.min(n, start + CHUNK));
            List<String> a = chunk.stream().map(GlueExample::textA).toList();
            HfTokenizer.Batch b = chunk.get(0).textB().isPresent()
                    ? tokenizer.encodePairs(
                            a, chunk.stream().map(e -> e.textB().orElse("")).toList())
                    : tokenizer.encode(a);
            for (int i = 0; i < chunk.size(); i++) {
                int len = (int) Arrays.stream(b.attentionMask()[i]).sum(); // right padding
                ids[start + i] = Arrays.copyOf(b.inputIds()[i], len);
                types[start + i] = Arrays.copyOf(b.tokenTypeIds()[i], len);
                labels[start + i] = chunk.get(i).label();
            }
        }
        return new EncodedExamples(ids, types, labels, tokenizer.padId());
    }

    int size() {
        return ids.length;
    }

    float label(int i) {
        return labels[i];
    }

    /** The length of each row without padding: its token count after truncation, special tokens included. */
    int[] lengths() {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = ids[i].length;
        }
        return out;
    }

    /** Builds {@code [input_ids, attention_mask, token_type_ids]} for some rows, padded to their longest. */
    NDList inputs(NDManager manager, int[] rows) {
        int len = 0;
        for (int r : rows) {
            len = Math.max(len, ids[r].length);
        }
        long[] idData = new long[rows.length * len];
        long[] maskData = new long[rows.length * len];
        long[] typeData = new long[rows.length * len];
        Arrays.fill(idData, padId);
        for (int i = 0; i < rows.length; i++) {
            long[] row = ids[rows[i]];
            System.arraycopy(row, 0, idData, i * len, row.length);
            System.arraycopy(types[rows[i]], 0, typeData, i * len, row.length);
            Arrays.fill(maskData, i * len, i * len + row.length, 1L);
        }
        Shape shape = new Shape(rows.length, len);
        return new NDList(
                manager.create(idData, shape), manager.create(maskData, shape), manager.create(typeData, shape));
    }

    /** Labels as int64 class ids, or float32 targets for regression. */
    NDArray labels(NDManager manager, int[] rows, boolean regression) {
        if (regression) {
            float[] y = new float[rows.length];
            for (int i = 0; i < rows.length; i++) {
                y[i] = labels[rows[i]];
            }
            return manager.create(y);
        }
        long[] y = new long[rows.length];
        for (int i = 0; i < rows.length; i++) {
            y[i] = (long) labels[rows[i]];
        }
        return manager.create(y);
    }

    /** Splits 0..n-1 into batches, shuffled with the given generator or in order when it is null. */
    List<int[]> batches(int batchSize, java.util.Random shuffle) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < size(); i++) {
            order.add(i);
        }
        if (shuffle != null) {
            java.util.Collections.shuffle(order, shuffle);
        }
        List<int[]> out = new ArrayList<>();
        for (int s = 0; s < order.size(); s += batchSize) {
            out.add(order.subList(s, Math.min(order.size(), s + batchSize)).stream()
                    .mapToInt(Integer::intValue)
                    .toArray());
        }
        return out;
    }
}
