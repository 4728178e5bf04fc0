package dev.delora.djl.io;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a safetensors file whose tensor data is streamed by the caller, one tensor at a time, so that peak memory is
 * one tensor rather than the model: the header ({@code __metadata__} with {@code format=pt}, then each tensor's dtype,
 * shape and data offsets in the given order), padded with spaces to a multiple of 8 bytes after its 8-byte
 * little-endian length, then the data. The file is replaced atomically ({@link AtomicFiles#write}).
 */
public final class SafetensorsWriter {

    private SafetensorsWriter() {}

    /**
     * One tensor of the file.
     *
     * @param name its key ({@code __metadata__} is reserved)
     * @param dtype its stored type
     * @param shape its dimensions
     */
    public record Entry(String name, SafetensorsDtype dtype, long[] shape) {

        /** Refuses the reserved key and copies the shape. */
        public Entry {
            if ("__metadata__".equals(name)) {
                throw new IllegalArgumentException("'__metadata__' is reserved and cannot name a tensor");
            }
            shape = shape.clone();
        }

        /**
         * Returns a copy of the shape.
         *
         * @return the dimensions
         */
        @Override
        public long[] shape() {
            return shape.clone();
        }

        /**
         * Returns the size of the tensor's data.
         *
         * @return bytes
         */
        public long bytes() {
            long n = dtype.size();
            for (long d : shape) {
                n *= d;
            }
            return n;
        }
    }

    /** Writes the data of one tensor, exactly {@link Entry#bytes()} bytes. */
    @FunctionalInterface
    public interface TensorData {
        /**
         * Writes the tensor's little-endian bytes.
         *
         * @param entry the tensor, in the order of the header
         * @param out the file's stream
         * @throws IOException if writing fails
         */
        void write(Entry entry, OutputStream out) throws IOException;
    }

    /**
     * Writes the file.
     *
     * @param file the destination
     * @param metadata extra {@code __metadata__} entries (may be {@code null}); {@code format=pt} is always written
     * @param entries the tensors, in the order of the data
     * @param data writes each tensor's bytes, called once per entry in order
     * @throws IOException if writing fails
     */
    public static void write(Path file, Map<String, String> metadata, List<Entry> entries, TensorData data)
            throws IOException {
        JsonObject header = new JsonObject();
        JsonObject meta = new JsonObject();
        meta.addProperty("format", "pt");
        if (metadata != null) {
            new TreeMap<>(metadata).forEach(meta::addProperty);
        }
        header.add("__metadata__", meta);
        long offset = 0;
        for (Entry e : entries) {
            JsonObject o = new JsonObject();
            o.addProperty("dtype", e.dtype().name());
            JsonArray dims = new JsonArray();
            for (long d : e.shape) {
                dims.add(d);
            }
            o.add("shape", dims);
            JsonArray offsets = new JsonArray();
            offsets.add(offset);
            offset += e.bytes();
            offsets.add(offset);
            o.add("data_offsets", offsets);
            header.add(e.name(), o);
        }
        byte[] json = new Gson().toJson(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] headerBytes = Arrays.copyOf(json, padded);
        Arrays.fill(headerBytes, json.length, padded, (byte) ' ');
        AtomicFiles.write(file, out -> {
            out.write(ByteBuffer.allocate(8)
                    .order(ByteOrder.LITTLE_ENDIAN)
                    .putLong(padded)
                    .array());
            out.write(headerBytes);
            for (Entry e : entries) {
                data.write(e, out);
            }
        });
    }
}
