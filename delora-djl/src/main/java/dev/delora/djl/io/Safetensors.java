package dev.delora.djl.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reader and writer for the <a href="https://github.com/huggingface/safetensors">safetensors</a> format.
 *
 * <p>Unlike {@code NDList.decode}, the reader validates the header (dtypes, shapes, offsets, overlaps), reads tensor
 * by tensor through a {@link FileChannel} so files over 2 GiB work, and converts F16/BF16 to F32 on the host: the
 * PyTorch engine aborts the JVM when a BF16 array is created. The writer produces the same layout as the Python
 * library: sorted keys, {@code __metadata__} with {@code format=pt}, the header padded with spaces to a multiple of 8.
 */
public final class Safetensors {

    /** Largest header the Python library accepts (100 MB); bigger values mean a corrupt or foreign file. */
    private static final long MAX_HEADER = 100_000_000L;

    private Safetensors() {}

    /**
     * One tensor entry of a header.
     *
     * @param name the key
     * @param dtype the element type in the file
     * @param shape the shape
     * @param begin first byte, relative to the start of the data section
     * @param end one past the last byte, relative to the start of the data section
     */
    public record TensorInfo(String name, SafetensorsDtype dtype, Shape shape, long begin, long end) {
        /**
         * Returns the number of bytes of the tensor.
         *
         * @return {@code end - begin}
         */
        public long byteSize() {
            return end - begin;
        }
    }

    /**
     * Opens a file and validates its header.
     *
     * @param file a {@code .safetensors} file
     * @return an open reader (close it)
     * @throws IOException if the file cannot be read
     * @throws SafetensorsException if the file is not valid safetensors
     */
    public static Reader open(Path file) throws IOException {
        return new Reader(file);
    }

    /**
     * Reads every tensor of a file.
     *
     * @param manager the manager owning the arrays
     * @param file a {@code .safetensors} file
     * @return name to array, in file order (each array is named after its key)
     * @throws IOException if the file cannot be read
     */
    public static Map<String, NDArray> load(NDManager manager, Path file) throws IOException {
        try (Reader r = open(file)) {
            Map<String, NDArray> out = new LinkedHashMap<>();
            for (String name : r.tensors().keySet()) {
                out.put(name, r.read(manager, name));
            }
            return out;
        }
    }

    /**
     * An open safetensors file. Thread-compatible; close it when done.
     */
    public static final class Reader implements AutoCloseable {
        private final Path file;
        private final FileChannel channel;
        private final long dataStart;
        private final Map<String, TensorInfo> tensors;
        private final Map<String, String> metadata;

        private Reader(Path file) throws IOException {
            this.file = file;
            this.channel = FileChannel.open(file, StandardOpenOption.READ);
            try {
                long size = channel.size();
                if (size < 8) {
                    throw fail("the file is " + size + " bytes long, shorter than the 8-byte header length");
                }
                ByteBuffer lenBuf = readFully(0, 8);
                long headerLen = lenBuf.order(ByteOrder.LITTLE_ENDIAN).getLong(0);
                if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > size) {
                    throw fail("the header length " + headerLen + " does not fit in the file of " + size + " bytes");
                }
                ByteBuffer hb = readFully(8, (int) headerLen);
                String json = StandardCharsets.UTF_8.decode(hb).toString();
                this.dataStart = 8 + headerLen;
                Map<String, String> meta = new LinkedHashMap<>();
                this.tensors = Collections.unmodifiableMap(parseHeader(json, size - dataStart, meta));
                this.metadata = Collections.unmodifiableMap(meta);
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        }

        private Map<String, TensorInfo> parseHeader(String json, long dataLen, Map<String, String> meta) {
            JsonObject root;
            try {
                JsonElement e = JsonParser.parseString(json.trim());
                if (!e.isJsonObject()) {
                    throw fail("the header is not a JSON object");
                }
                root = e.getAsJsonObject();
            } catch (JsonParseException e) {
                throw fail("the header is not valid JSON (" + e.getMessage() + ")");
            }
            Map<String, TensorInfo> out = new LinkedHashMap<>();
            for (Map.Entry<String, JsonElement> en : root.entrySet()) {
                String name = en.getKey();
                if ("__metadata__".equals(name)) {
                    if (en.getValue().isJsonObject()) {
                        en.getValue()
                                .getAsJsonObject()
                                .entrySet()
                                .forEach(m -> meta.put(
                                        m.getKey(),
                                        m.getValue().isJsonPrimitive()
                                                ? m.getValue().getAsString()
                                                : m.getValue().toString()));
                    }
                    continue;
                }
                out.put(name, parseEntry(name, en.getValue(), dataLen));
            }
            List<TensorInfo> sorted = new ArrayList<>(out.values());
            sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
            for (int i = 1; i < sorted.size(); i++) {
                TensorInfo a = sorted.get(i - 1);
                TensorInfo b = sorted.get(i);
                if (b.begin() < a.end() && b.byteSize() > 0 && a.byteSize() > 0) {
                    throw fail("tensors '" + a.name() + "' [" + a.begin() + ", " + a.end() + ") and '" + b.name()
                            + "' [" + b.begin() + ", " + b.end() + ") overlap");
                }
            }
            return out;
        }

        private TensorInfo parseEntry(String name, JsonElement value, long dataLen) {
            try {
                JsonObject o = value.getAsJsonObject();
                String dt = o.get("dtype").getAsString();
                SafetensorsDtype dtype;
                try {
                    dtype = SafetensorsDtype.valueOf(dt);
                } catch (IllegalArgumentException e) {
                    throw fail("tensor '" + name + "' has the unknown dtype '" + dt + "'; expected one of "
                            + java.util.Arrays.toString(SafetensorsDtype.values()));
                }
                JsonArray sh = o.getAsJsonArray("shape");
                long[] dims = new long[sh.size()];
                long count = 1;
                for (int i = 0; i < dims.length; i++) {
                    dims[i] = sh.get(i).getAsLong();
                    if (dims[i] < 0) {
                        throw fail("tensor '" + name + "' has a negative dimension in shape " + sh);
                    }
                    count = Math.multiplyExact(count, dims[i]);
                }
                JsonArray off = o.getAsJsonArray("data_offsets");
                if (off == null || off.size() != 2) {
                    throw fail("tensor '" + name + "' needs data_offsets [begin, end]");
                }
                long begin = off.get(0).getAsLong();
                long end = off.get(1).getAsLong();
                if (begin < 0 || begin > end) {
                    throw fail("tensor '" + name + "' has data_offsets [" + begin + ", " + end
                            + "]; expected 0 <= begin <= end");
                }
                if (end > dataLen) {
                    throw fail("tensor '" + name + "' has data_offsets [" + begin + ", " + end
                            + "] outside the data section of " + dataLen + " bytes (truncated file?)");
                }
                long expected = Math.multiplyExact(count, dtype.size());
                if (end - begin != expected) {
                    throw fail("tensor '" + name + "' spans " + (end - begin) + " bytes but " + dtype + " shape " + sh
                            + " needs " + expected);
                }
                return new TensorInfo(name, dtype, new Shape(dims), begin, end);
            } catch (IllegalStateException
                    | NullPointerException
                    | UnsupportedOperationException
                    | ClassCastException
                    | NumberFormatException e) {
                throw fail("tensor '" + name + "' has a malformed header entry " + value + " (" + e + ")");
            } catch (ArithmeticException e) {
                throw fail("tensor '" + name + "' has a shape whose size overflows");
            }
        }

        private SafetensorsException fail(String what) {
            return new SafetensorsException(file + ": " + what);
        }

        private ByteBuffer readFully(long position, int length) throws IOException {
            ByteBuffer buf = ByteBuffer.allocate(length);
            while (buf.hasRemaining()) {
                int n = channel.read(buf, position + buf.position());
                if (n < 0) {
                    throw fail("unexpected end of file at byte " + (position + buf.position()));
                }
            }
            buf.flip();
            return buf;
        }

        /**
         * Returns the file this reader reads.
         *
         * @return the path
         */
        public Path file() {
            return file;
        }

        /**
         * Returns the tensors of the file, in header order.
         *
         * @return name to entry
         */
        public Map<String, TensorInfo> tensors() {
            return tensors;
        }

        /**
         * Returns the {@code __metadata__} entries (empty if none).
         *
         * @return key to value
         */
        public Map<String, String> metadata() {
            return metadata;
        }

        /**
         * Reads one tensor as little-endian bytes in its file dtype.
         *
         * @param name the key
         * @return the raw bytes, little-endian
         * @throws IOException if reading fails
         */
        public ByteBuffer readRaw(String name) throws IOException {
            TensorInfo t = info(name);
            if (t.byteSize() > Integer.MAX_VALUE - 8) {
                throw fail("tensor '" + name + "' is " + t.byteSize() + " bytes, more than one buffer can hold");
            }
            return readFully(dataStart + t.begin(), (int) t.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
        }

        /**
         * Reads one tensor into an array; F16 and BF16 become F32 exactly.
         *
         * @param manager the manager owning the array
         * @param name the key
         * @return the array, named after the key
         * @throws IOException if reading fails
         */
        public NDArray read(NDManager manager, String name) throws IOException {
            TensorInfo t = info(name);
            ByteBuffer raw = readRaw(name);
            ByteBuffer data = switch (t.dtype()) {
                case F16, BF16 -> SafetensorsDtype.toF32(raw, t.dtype());
                default -> raw;
            };
            ByteBuffer direct = ByteBuffer.allocateDirect(data.remaining()).order(ByteOrder.nativeOrder());
            if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
                throw new UnsupportedOperationException("big-endian hosts are not supported");
            }
            direct.put(data).flip();
            NDArray array = manager.create(direct, t.shape(), t.dtype().loadedAs());
            array.setName(name);
            return array;
        }

        /**
         * Returns one entry, failing with the list of keys when it is absent.
         *
         * @param name the key
         * @return the entry
         */
        public TensorInfo info(String name) {
            TensorInfo t = tensors.get(name);
            if (t == null) {
                throw new IllegalArgumentException(
                        file + " has no tensor named '" + name + "'; it has " + tensors.size() + " tensors, e.g. "
                                + tensors.keySet().stream().limit(8).toList());
            }
            return t;
        }

        /** {@inheritDoc} */
        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    /**
     * Writes arrays to a safetensors file atomically (temp file in the same folder, then an atomic move).
     *
     * @param file the destination
     * @param tensors name to array (BF16 arrays are not supported; write F32)
     * @param metadata extra {@code __metadata__} entries; {@code format=pt} is always written
     * @throws IOException if writing fails
     */
    public static void write(Path file, Map<String, NDArray> tensors, Map<String, String> metadata) throws IOException {
        TreeMap<String, NDArray> sorted = new TreeMap<>(tensors);
        JsonObject header = new JsonObject();
        JsonObject meta = new JsonObject();
        meta.addProperty("format", "pt");
        if (metadata != null) {
            new TreeMap<>(metadata).forEach(meta::addProperty);
        }
        header.add("__metadata__", meta);
        long offset = 0;
        for (Map.Entry<String, NDArray> e : sorted.entrySet()) {
            if ("__metadata__".equals(e.getKey())) {
                throw new IllegalArgumentException("'__metadata__' is reserved and cannot name a tensor");
            }
            NDArray a = e.getValue();
            SafetensorsDtype dt = SafetensorsDtype.of(a.getDataType());
            long bytes = a.size() * dt.size();
            JsonObject o = new JsonObject();
            o.addProperty("dtype", dt.name());
            JsonArray shape = new JsonArray();
            for (long d : a.getShape().getShape()) {
                shape.add(d);
            }
            o.add("shape", shape);
            JsonArray off = new JsonArray();
            off.add(offset);
            off.add(offset + bytes);
            o.add("data_offsets", off);
            header.add(e.getKey(), o);
            offset += bytes;
        }
        byte[] json = new Gson().toJson(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] hb = new byte[padded];
        System.arraycopy(json, 0, hb, 0, json.length);
        java.util.Arrays.fill(hb, json.length, padded, (byte) ' ');
        // tensors are copied to the host one at a time while streaming, so peak memory is one tensor, not the model
        AtomicFiles.write(file, out -> {
            out.write(ByteBuffer.allocate(8)
                    .order(ByteOrder.LITTLE_ENDIAN)
                    .putLong(padded)
                    .array());
            out.write(hb);
            for (NDArray a : sorted.values()) {
                out.write(a.toByteArray());
            }
        });
    }

    /**
     * Thrown when a file is not valid safetensors; the message names the file and the tensor.
     */
    public static final class SafetensorsException extends UncheckedIOException {
        private static final long serialVersionUID = 1L;

        /**
         * Creates the exception.
         *
         * @param message what is wrong, naming the file and tensor
         */
        public SafetensorsException(String message) {
            super(message, new IOException(message));
        }
    }
}
