package dev.delora.djl.hf.decoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.delora.djl.io.TensorSource;
import java.io.IOException;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.function.Predicate;

/**
 * A checkpoint without the keys transformers ignores when loading a decoder: the non-persistent
 * {@code rotary_emb.inv_freq} buffers some exporters keep, and a tied {@code lm_head.weight} that equals
 * {@code embed_tokens}. Closing it closes nothing: the underlying source belongs to the caller.
 */
final class HiddenBuffers implements TensorSource {

    private final TensorSource source;
    private final Set<String> keys = new LinkedHashSet<>();

    HiddenBuffers(TensorSource source, Predicate<String> hidden) {
        this.source = source;
        for (String k : source.keys()) {
            if (!hidden.test(k)) {
                keys.add(k);
            }
        }
    }

    static boolean isRotaryBuffer(String key) {
        return key.endsWith("rotary_emb.inv_freq");
    }

    @Override
    public Set<String> keys() {
        return Collections.unmodifiableSet(keys);
    }

    @Override
    public Shape shape(String key) {
        return source.shape(visible(key));
    }

    @Override
    public NDArray load(NDManager manager, String key) throws IOException {
        return source.load(manager, visible(key));
    }

    private String visible(String key) {
        if (!keys.contains(key)) {
            throw new IllegalArgumentException(source.describe() + " has no tensor '" + key + "'");
        }
        return key;
    }

    @Override
    public String describe() {
        return source.describe();
    }

    @Override
    public void close() {
        // the wrapped source is closed by its owner
    }
}
