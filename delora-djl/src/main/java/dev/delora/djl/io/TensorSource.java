package dev.delora.djl.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.util.Set;

/**
 * A named collection of tensors read on demand: a safetensors file, a sharded checkpoint, imported ONNX weights.
 * Keys are PyTorch state-dict keys such as {@code encoder.layer.0.attention.self.query.weight}.
 */
public interface TensorSource extends AutoCloseable {

    /**
     * Returns every key.
     *
     * @return the keys, in a stable order
     */
    Set<String> keys();

    /**
     * Returns the shape of one tensor without reading its data.
     *
     * @param key a key from {@link #keys()}
     * @return the shape
     */
    Shape shape(String key);

    /**
     * Reads one tensor; floating-point tensors of 16 bits arrive as F32.
     *
     * @param manager the manager owning the array
     * @param key a key from {@link #keys()}
     * @return the array
     * @throws IOException if reading fails
     */
    NDArray load(NDManager manager, String key) throws IOException;

    /**
     * Describes where the tensors come from, for messages.
     *
     * @return e.g. the file or folder
     */
    String describe();

    /** {@inheritDoc} */
    @Override
    void close() throws IOException;
}
