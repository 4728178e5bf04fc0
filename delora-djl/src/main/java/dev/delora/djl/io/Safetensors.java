package dev.delora.djl.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reader and writer for the <a href="https://github.com/huggingface/safetensors">safetensors</a> format.
 *
 * <p>The reader accepts the files the reference implementation accepts ({@code safetensors/src/tensor.rs},
 * {@code SafeTensors::read_metadata} and {@code Metadata::validate}, which Python's {@code safetensors} runs) and
 * checks every rule when the file is opened, before any tensor data is read or allocated. A file that breaks one
 * fails with a {@link SafetensorsException} naming the file, the tensor or field, what was found and what was
 * expected; its {@link SafetensorsException#rule() rule} is the reference's {@code SafeTensorError} name:
 *
 * <ul>
 *   <li>{@code HeaderTooSmall}: the file is shorter than the 8-byte header length.
 *   <li>{@code HeaderTooLarge}: the header length (a little-endian u64) is over 100,000,000.
 *   <li>{@code InvalidHeaderLength}: 8 + the header length is past the end of the file.
 *   <li>{@code InvalidHeader}: the header is not valid UTF-8.
 *   <li>{@code InvalidHeaderStart}: the header does not begin with '{' (an empty header, leading whitespace).
 *   <li>{@code InvalidHeaderDeserialization}: the header is not one strict JSON object (RFC 8259: no comments, single
 *       quotes, NaN, trailing commas, control characters, unpaired surrogates, nesting over serde_json's 128) followed
 *       by nothing but JSON whitespace (writers pad with spaces). A repeated key keeps its last value, as with serde.
 *   <li>{@code InvalidHeaderDeserialization}: a tensor entry is not an object with {@code dtype} (a dtype name as a
 *       string, exact case), {@code shape} (an array of integers) and {@code data_offsets} (an array of exactly two
 *       integers); other fields are ignored, as with serde.
 *   <li>{@code InvalidHeaderDeserialization}: a shape or offset is not an integer as serde reads a {@code usize}:
 *       digits only (no sign, fraction, exponent or quotes) and below 2^64.
 *   <li>{@code InvalidHeaderDeserialization}: {@code __metadata__} is neither null nor an object of strings (a
 *       string to string map).
 *   <li>{@code InvalidOffset}: sorted by (begin, end), the tensors must be contiguous: the first begins at 0, each
 *       next one where the previous ended, and no end is before its begin. No gaps, no overlaps (also none behind a
 *       zero-size tensor); the order of the keys in the header is free.
 *   <li>{@code ValidationOverflow}: the element count or byte size of a tensor overflows (a signed 64-bit long here,
 *       so a number from 2^63 to 2^64 - 1 fails with this rule).
 *   <li>{@code TensorInvalidInfo}: end - begin is not the product of the shape times the dtype size.
 *   <li>{@code MetadataIncompleteBuffer}: the last end is not the length of the data section (file size - 8 - header
 *       length): no trailing bytes, none missing; a header length a few bytes off fails here or as JSON.
 * </ul>
 *
 * <p>One rule is this reader's own: {@code UnsupportedDtype}, a dtype of the format it cannot load (U16, F8_E4M3,
 * ...). Text from the file is cut to 80 characters in messages. Tensors are read one at a time through a
 * {@link FileChannel}, so files over 2 GiB work, and F16/BF16 become F32 on the host: the PyTorch engine aborts the
 * JVM when a BF16 array is created. The writer produces the same layout as the Python library: sorted keys,
 * {@code __metadata__} with {@code format=pt}, the header padded with spaces to a multiple of 8.
 */
public final class Safetensors {

    /** Largest header the reference accepts ({@code MAX_HEADER_SIZE}). */
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
                    throw fail(
                            "HeaderTooSmall",
                            "the file is " + size + " bytes long, shorter than the 8-byte header length");
                }
                long n = readFully(0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
                if (n < 0 || n > MAX_HEADER) {
                    throw fail(
                            "HeaderTooLarge",
                            "the header length is " + Long.toUnsignedString(n) + "; expected at most " + MAX_HEADER);
                }
                if (8 + n > size) {
                    throw fail(
                            "InvalidHeaderLength",
                            "the header length " + n + " runs past the end of the file of " + size
                                    + " bytes; expected at most " + (size - 8));
                }
                ByteBuffer hb = readFully(8, (int) n);
                String json;
                ByteBuffer in = hb.duplicate();
                try {
                    json = StandardCharsets.UTF_8
                            .newDecoder()
                            .onMalformedInput(CodingErrorAction.REPORT)
                            .onUnmappableCharacter(CodingErrorAction.REPORT)
                            .decode(in)
                            .toString();
                } catch (CharacterCodingException e) {
                    throw fail("InvalidHeader", "the header is not valid UTF-8 (at byte " + (8 + in.position()) + ")");
                }
                if (json.isEmpty() || json.charAt(0) != '{') {
                    String first = n == 0 ? "nothing" : String.format("byte 0x%02x", hb.get(0) & 0xff);
                    throw fail("InvalidHeaderStart", "the header begins with " + first + "; expected '{'");
                }
                this.dataStart = 8 + n;
                SafetensorsHeader header = new SafetensorsHeader(file, json, size - dataStart);
                this.tensors = header.tensors;
                this.metadata = header.metadata;
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
        }

        private SafetensorsException fail(String rule, String what) {
            return SafetensorsHeader.fail(file, rule, what);
        }

        private ByteBuffer readFully(long position, int length) throws IOException {
            ByteBuffer buf = ByteBuffer.allocate(length);
            while (buf.hasRemaining()) {
                int n = channel.read(buf, position + buf.position());
                if (n < 0) {
                    throw new SafetensorsException(
                            file + ": unexpected end of file at byte " + (position + buf.position()), null);
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
            long loaded = t.byteSize() / t.dtype().size() * t.dtype().loadedAs().getNumOfBytes();
            if (Math.max(t.byteSize(), loaded) > Integer.MAX_VALUE - 8) {
                throw new SafetensorsException(
                        file + ": tensor '" + SafetensorsHeader.cut(name) + "' is " + t.byteSize()
                                + " bytes, more than one buffer can hold",
                        null);
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
                        file + " has no tensor named '" + SafetensorsHeader.cut(name) + "'; it has "
                                + tensors.size() + " tensors, e.g. "
                                + tensors.keySet().stream()
                                        .limit(8)
                                        .map(SafetensorsHeader::cut)
                                        .toList());
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
        List<SafetensorsWriter.Entry> entries = new ArrayList<>();
        for (Map.Entry<String, NDArray> e : sorted.entrySet()) {
            NDArray a = e.getValue();
            entries.add(new SafetensorsWriter.Entry(
                    e.getKey(),
                    SafetensorsDtype.of(a.getDataType()),
                    a.getShape().getShape()));
        }
        // tensors are copied to the host one at a time while streaming, so peak memory is one tensor, not the model
        SafetensorsWriter.write(
                file,
                metadata,
                entries,
                (entry, out) -> out.write(sorted.get(entry.name()).toByteArray()));
    }

    /**
     * Thrown when a file is not valid safetensors; the message names the file and the tensor or field, and
     * {@link #rule()} the rule broken.
     */
    public static final class SafetensorsException extends UncheckedIOException {
        private static final long serialVersionUID = 1L;

        /** The reference's {@code SafeTensorError} name, e.g. {@code InvalidOffset}; null when none applies. */
        private final String rule;

        /**
         * Creates the exception.
         *
         * @param message what is wrong, naming the file and tensor
         */
        public SafetensorsException(String message) {
            this(message, null);
        }

        /**
         * Creates the exception for a broken format rule.
         *
         * @param message what is wrong, naming the file and tensor
         * @param rule the reference's error name, e.g. {@code InvalidOffset}, or null
         */
        public SafetensorsException(String message, String rule) {
            super(message, new IOException(message));
            this.rule = rule;
        }

        /**
         * Returns the rule the file breaks, named as the reference implementation's {@code SafeTensorError}
         * ({@code InvalidOffset}, {@code MetadataIncompleteBuffer}, ...; {@code UnsupportedDtype} is this reader's).
         *
         * @return the name, or null for an I/O problem that is no format rule
         */
        public String rule() {
            return rule;
        }
    }
}
