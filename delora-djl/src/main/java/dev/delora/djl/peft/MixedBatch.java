package dev.delora.djl.peft;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.util.PairList;
import dev.delora.core.FrozenLinear;
import dev.delora.core.LinearAdapter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Mixed-adapter batches (PEFT's {@code model(**inputs, adapter_names=[...])}): row {@code i} of a batch goes through
 * adapter {@code names[i]}, or through none for {@link AdaptedModel#NO_ADAPTER}. As PEFT's
 * {@code _mixed_batch_forward}: the base output of the whole batch, plus, for each adapter named, its update of the
 * sub-batch of its rows.
 */
final class MixedBatch {

    private MixedBatch() {}

    /** Builds the forward parameters after checking the names against the model's adapters. */
    static PairList<String, Object> params(List<String> perRow, Set<String> adapters, boolean merged) {
        if (perRow.isEmpty()) {
            throw new IllegalArgumentException("adapter_names is empty; give one adapter name per row of the batch");
        }
        Set<String> unknown = new LinkedHashSet<>();
        for (String n : perRow) {
            if (n == null) {
                throw new IllegalArgumentException("adapter_names contains null; use \"" + AdaptedModel.NO_ADAPTER
                        + "\" for a row without adapter");
            }
            if (!n.equals(AdaptedModel.NO_ADAPTER) && !adapters.contains(n)) {
                unknown.add(n);
            }
        }
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("adapter_names names no adapter of this model: " + unknown
                    + "; adapters: " + adapters + " (or \"" + AdaptedModel.NO_ADAPTER + "\" for the base model)");
        }
        checkNotMerged(merged);
        PairList<String, Object> params = new PairList<>();
        params.add(AdaptedModel.ADAPTER_NAMES, List.copyOf(perRow));
        return params;
    }

    /** The per-row adapter names passed to a forward pass, or null when there are none. */
    static List<String> names(PairList<String, Object> params) {
        Object value = params == null ? null : params.get(AdaptedModel.ADAPTER_NAMES);
        if (value == null) {
            return null;
        }
        Collection<?> items = value instanceof String[] a ? List.of(a) : value instanceof Collection<?> c ? c : null;
        List<String> out = new ArrayList<>();
        if (items != null) {
            for (Object o : items) {
                if (!(o instanceof String s)) {
                    items = null;
                    break;
                }
                out.add(s);
            }
        }
        if (items == null) {
            throw new IllegalArgumentException("Forward parameter '" + AdaptedModel.ADAPTER_NAMES + "' must be a "
                    + "List<String> or String[] with one adapter name per row, got "
                    + value.getClass().getName());
        }
        return out;
    }

    /** PEFT's layer check: the names must match the rows, and no adapter may be merged. */
    static void check(List<String> names, Shape input, boolean merged, boolean training) {
        if (training) {
            throw new IllegalStateException("Mixed-adapter batches (" + AdaptedModel.ADAPTER_NAMES
                    + ") are for inference only, as in PEFT; run the forward pass with training=false");
        }
        long rows = input.dimension() < 2 ? -1 : input.get(0);
        if (rows != names.size()) {
            throw new IllegalArgumentException(AdaptedModel.ADAPTER_NAMES + " has " + names.size()
                    + " names, one per row, but an adapted module got input of shape " + input
                    + (rows < 0 ? " (no batch dimension)" : " (" + rows + " rows)"));
        }
        checkNotMerged(merged);
    }

    private static void checkNotMerged(boolean merged) {
        if (merged) {
            throw new IllegalStateException(
                    "Cannot run a mixed-adapter batch while adapters are merged (as PEFT); " + "call unmerge() first");
        }
    }

    /**
     * Computes what the adapters add to the base output {@code y [rows, ..., out]}: for each adapter named in
     * {@code names} that this module has, its update of its rows; zero for the other rows.
     *
     * @param x32 the input in float32, {@code [rows, ..., in]}
     * @param w32 the base weight in float32, {@code [out, in]}
     * @param b32 the base bias in float32, or null
     * @param y32 the base output in float32, {@code [rows, ..., out]}
     * @return the change, float32 {@code [rows, ..., out]}, or null when no row uses an adapter of this module
     */
    static NDArray delta(
            NDArray x32,
            NDArray w32,
            NDArray b32,
            NDArray y32,
            List<String> names,
            Map<String, LinearAdapter> adapters,
            Function<Parameter, NDArray> values) {
        Map<String, List<Long>> rowsOf = new LinkedHashMap<>();
        List<Long> rest = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            String n = names.get(i);
            // PEFT skips the base rows and adapters this module lacks (each may target other modules)
            if (adapters.containsKey(n)) {
                rowsOf.computeIfAbsent(n, k -> new ArrayList<>()).add((long) i);
            } else {
                rest.add((long) i);
            }
        }
        if (rowsOf.isEmpty()) {
            return null;
        }
        NDList parts = new NDList();
        long[] order = new long[names.size()]; // order[k] = batch row of the k-th row of the concatenation
        int k = 0;
        for (Map.Entry<String, List<Long>> e : rowsOf.entrySet()) {
            NDArray idx = index(x32, e.getValue());
            FrozenLinear frozen = new FrozenLinear(w32, b32, y32.get(idx));
            parts.add(adapters.get(e.getKey()).forward(x32.get(idx), frozen, values, false));
            for (long r : e.getValue()) {
                order[k++] = r;
            }
        }
        if (!rest.isEmpty()) {
            Shape s = y32.getShape();
            long[] dims = s.getShape();
            dims[0] = rest.size();
            parts.add(x32.getManager().zeros(new Shape(dims), DataType.FLOAT32, x32.getDevice()));
            for (long r : rest) {
                order[k++] = r;
            }
        }
        long[] inverse = new long[order.length];
        for (int i = 0; i < order.length; i++) {
            inverse[(int) order[i]] = i;
        }
        NDArray all = parts.size() == 1 ? parts.head() : NDArrays.concat(parts, 0);
        return all.get(x32.getManager().create(inverse).toDevice(x32.getDevice(), false));
    }

    private static NDArray index(NDArray like, List<Long> rows) {
        long[] r = rows.stream().mapToLong(Long::longValue).toArray();
        return like.getManager().create(r).toDevice(like.getDevice(), false);
    }
}
