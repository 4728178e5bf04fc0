package dev.delora.djl.hf.gguf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Map;

/**
 * An open <a href="https://github.com/ggml-org/ggml/blob/master/docs/gguf.md">GGUF</a> file (version 2 or 3,
 * little-endian), the checkpoint format of llama.cpp and the JVM LLM runtimes.
 *
 * <pre>{@code
 * try (GgufFile f = GgufFile.open(Path.of("SmolLM2-135M-Instruct.Q4_1.gguf"))) {
 *     String arch = f.metadata().string("general.architecture");       // "llama"
 *     GgufTensorInfo t = f.tensors().get("blk.0.attn_q.weight");      // dims {576, 576}, Q4_1
 *     float[] w = f.dequantize(t.name());                             // 576 * 576 floats, row-major [out, in]
 * }
 * }</pre>
 *
 * <p>Opening reads and checks the whole header (magic, version, counts, every metadata value, every tensor info,
 * {@code general.alignment}, the data section's layout) without reading tensor data; every length, count and offset
 * is checked against the file size before anything is allocated for it. A file that breaks a rule fails with a
 * {@link GgufException} naming the file, the key or tensor, what was found and what was expected. Tensors are read one
 * at a time with positional reads ({@link FileChannel}), so files over 2 GiB work as long as each tensor is under
 * 2 GiB. Thread-compatible; close it when done.
 */
public final class GgufFile implements AutoCloseable {
    private final GgufHeader header;
    private final GgufMetadata metadata;
    private final Map<String, GgufTensorInfo> tensors;
    private final FileChannel channel;

    private GgufFile(GgufHeader header) throws IOException {
        this.header = header;
        this.metadata = new GgufMetadata(header.file, header.metadata);
        this.tensors = Collections.unmodifiableMap(header.tensors);
        this.channel = FileChannel.open(header.file, StandardOpenOption.READ);
    }

    /**
     * Opens a GGUF file and validates its header.
     *
     * @param file a {@code .gguf} file
     * @return the open file (close it)
     * @throws GgufException if the file is not a valid GGUF v2/v3 file
     * @throws IOException if the file cannot be read
     */
    public static GgufFile open(Path file) throws IOException {
        return new GgufFile(GgufHeader.read(file));
    }

    /**
     * Returns the path this file was opened from.
     *
     * @return the path
     */
    public Path file() {
        return header.file;
    }

    /**
     * Returns the format version.
     *
     * @return 2 or 3
     */
    public int version() {
        return header.version;
    }

    /**
     * Returns the alignment of the data section and of every tensor in it.
     *
     * @return {@code general.alignment}, 32 when absent
     */
    public int alignment() {
        return header.alignment;
    }

    /**
     * Returns the absolute file offset of the data section.
     *
     * @return bytes from the start of the file
     */
    public long dataStart() {
        return header.dataStart;
    }

    /**
     * Returns the metadata.
     *
     * @return the key/value pairs with typed accessors
     */
    public GgufMetadata metadata() {
        return metadata;
    }

    /**
     * Returns the tensor infos.
     *
     * @return name to info, in file order (unmodifiable)
     */
    public Map<String, GgufTensorInfo> tensors() {
        return tensors;
    }

    /**
     * Returns one tensor info.
     *
     * @param name the tensor name
     * @return the info
     * @throws GgufException if the file has no such tensor
     */
    public GgufTensorInfo tensor(String name) throws GgufException {
        GgufTensorInfo t = tensors.get(name);
        if (t == null) {
            throw new GgufException(header.file + " has no tensor '" + name + "' (it has " + tensors.size()
                    + " tensors, e.g. " + tensors.keySet().stream().limit(6).toList() + ")");
        }
        return t;
    }

    /**
     * Reads the stored bytes of one tensor.
     *
     * @param name the tensor name
     * @return a little-endian heap buffer of {@link GgufTensorInfo#byteSize()} bytes
     * @throws GgufException if there is no such tensor or it is 2 GiB or more
     * @throws IOException if reading fails
     */
    public ByteBuffer readRaw(String name) throws IOException {
        GgufTensorInfo t = tensor(name);
        if (t.byteSize() > Integer.MAX_VALUE - 8) {
            throw new GgufException(header.file + " has tensor '" + name + "' of " + t.byteSize()
                    + " bytes; expected under 2 GiB per tensor");
        }
        ByteBuffer buf = ByteBuffer.allocate((int) t.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        long at = header.dataStart + t.offset();
        while (buf.hasRemaining()) {
            int n = channel.read(buf, at + buf.position());
            if (n < 0) {
                throw new GgufException(header.file + " ended at byte " + (at + buf.position()) + " inside tensor '"
                        + name + "' (it shrank while open?)");
            }
        }
        buf.flip();
        return buf;
    }

    /**
     * Dequantizes one tensor to float32 exactly as ggml does (F32, F16, BF16, Q8_0, Q4_0, Q4_1).
     *
     * @param name the tensor name
     * @return the {@link GgufTensorInfo#elementCount()} values, row-major in {@link GgufTensorInfo#shape()} order
     *     (the innermost ggml dimension {@code ne[0]} varies fastest)
     * @throws GgufException if there is no such tensor, its type cannot be dequantized (the message names the tensor
     *     and type), or it has 2^31 elements or more
     * @throws IOException if reading fails
     */
    public float[] dequantize(String name) throws IOException {
        GgufTensorInfo t = tensor(name);
        if (!t.type().dequantizable()) {
            throw unsupported(t);
        }
        if (t.elementCount() > Integer.MAX_VALUE - 8) {
            throw new GgufException(header.file + " has tensor '" + name + "' of " + t.elementCount()
                    + " elements; expected under 2^31 per tensor");
        }
        return Dequantizer.dequantize(t.type(), readRaw(name), (int) t.elementCount());
    }

    /**
     * Builds the error for a tensor whose type cannot be dequantized.
     *
     * @param t the tensor
     * @return the exception, naming the file, the tensor and its type
     */
    GgufException unsupported(GgufTensorInfo t) {
        return new GgufException(header.file + " has tensor '" + t.name() + "' of type " + t.type()
                + ", which cannot be dequantized here; expected F32, F16, BF16, Q8_0, Q4_0 or Q4_1");
    }

    /** {@inheritDoc} */
    @Override
    public void close() throws IOException {
        channel.close();
    }
}
