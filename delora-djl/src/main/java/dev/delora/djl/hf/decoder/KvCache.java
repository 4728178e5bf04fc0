package dev.delora.djl.hf.decoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.util.ArrayList;
import java.util.List;

/**
 * The keys and values of every decoder layer for the positions seen so far, as transformers' {@code DynamicCache}
 * holds them: (B, num_key_value_heads, S, head_dim) per layer, rotary embeddings already applied to the keys.
 *
 * @param keys one key array per layer
 * @param values one value array per layer
 */
public record KvCache(List<NDArray> keys, List<NDArray> values) implements AutoCloseable {

    /** Validates and copies the lists. */
    public KvCache {
        keys = List.copyOf(keys);
        values = List.copyOf(values);
        if (keys.isEmpty() || keys.size() != values.size()) {
            throw new IllegalArgumentException(
                    "a KV cache needs one key and one value per layer, got " + keys.size() + " and " + values.size());
        }
    }

    /**
     * Builds a cache from arrays in the order {@code k0, v0, k1, v1, ...} (the order of {@link CausalLm}'s outputs).
     *
     * @param interleaved the arrays
     * @return the cache
     */
    public static KvCache ofInterleaved(List<NDArray> interleaved) {
        if (interleaved.isEmpty() || interleaved.size() % 2 != 0) {
            throw new IllegalArgumentException("expected k0, v0, k1, v1, ...; got " + interleaved.size() + " arrays");
        }
        List<NDArray> k = new ArrayList<>();
        List<NDArray> v = new ArrayList<>();
        for (int i = 0; i < interleaved.size(); i += 2) {
            k.add(interleaved.get(i));
            v.add(interleaved.get(i + 1));
        }
        return new KvCache(k, v);
    }

    /**
     * Returns the arrays in the order {@code k0, v0, k1, v1, ...}.
     *
     * @return the arrays
     */
    public NDList interleaved() {
        NDList out = new NDList();
        for (int i = 0; i < keys.size(); i++) {
            out.add(keys.get(i));
            out.add(values.get(i));
        }
        return out;
    }

    /**
     * Returns the number of layers.
     *
     * @return the layer count
     */
    public int layers() {
        return keys.size();
    }

    /**
     * Returns the number of cached positions.
     *
     * @return the sequence length of the cached keys
     */
    public long length() {
        return keys.get(0).getShape().get(2);
    }

    /**
     * Moves every array to a manager.
     *
     * @param manager the new owner
     */
    public void attach(NDManager manager) {
        interleaved().attach(manager);
    }

    /** Frees every array. */
    @Override
    public void close() {
        keys.forEach(NDArray::close);
        values.forEach(NDArray::close);
    }
}
