package dev.delora.djl.hf.gguf;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses the header of a GGUF file (v2 or v3, little-endian): magic, version, counts, metadata, tensor infos and the
 * data section's start. Every length, count and offset is checked against the bytes the file has left before anything
 * is allocated for it, so a hostile file fails with a {@link GgufException}, never with an out-of-memory error.
 */
final class GgufHeader {
    /** The default of {@code general.alignment}. */
    static final int DEFAULT_ALIGNMENT = 32;
    /** GGML_MAX_DIMS. */
    private static final int MAX_DIMS = 4;
    /** Smallest tensor info: name length, n_dims, type, offset. */
    private static final int MIN_TENSOR_INFO = 8 + 4 + 4 + 8;
    /** Smallest key/value: key length, value type, one byte of value. */
    private static final int MIN_KV = 8 + 4 + 1;

    final Path file;
    final long size;
    int version;
    int alignment = DEFAULT_ALIGNMENT;
    long dataStart;
    final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    final Map<String, GgufTensorInfo> tensors = new LinkedHashMap<>();

    private final InputStream in;
    private long pos;

    private GgufHeader(Path file, InputStream in, long size) {
        this.file = file;
        this.in = in;
        this.size = size;
    }

    static GgufHeader read(Path file) throws IOException {
        long size = Files.size(file);
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            GgufHeader h = new GgufHeader(file, in, size);
            h.parse();
            return h;
        }
    }

    private void parse() throws IOException {
        if (size < 4) {
            throw fail("is " + size + " bytes long; expected at least the 4-byte magic 'GGUF'");
        }
        byte[] magic = bytes(4, "the magic");
        if (magic[0] != 'G' || magic[1] != 'G' || magic[2] != 'U' || magic[3] != 'F') {
            throw fail(String.format(
                    "begins with the bytes %02x %02x %02x %02x; expected the magic 'GGUF' (47 47 55 46)",
                    magic[0], magic[1], magic[2], magic[3]));
        }
        long v = u32("the version");
        if (v != 2 && v != 3) {
            String hint = (v & 0xffff) == 0 && v != 0 ? " (a big-endian file?)" : "";
            throw fail("has GGUF version " + v + hint + "; expected 2 or 3 (little-endian)");
        }
        version = (int) v;
        long nTensors = u64("the tensor count");
        long nKv = u64("the metadata count");
        requireCount(nKv, MIN_KV, "metadata key/values");
        for (long i = 0; i < nKv; i++) {
            String key = string("the key of metadata entry " + i);
            GgufValue value = value(key, u32("the type of metadata key '" + key + "'"), false);
            if (metadata.put(key, value) != null) {
                throw fail("has metadata key '" + key + "' twice; expected each key once");
            }
        }
        GgufValue align = metadata.get("general.alignment");
        if (align != null) {
            long a = align.type() == GgufValueType.UINT32 ? (Long) align.value() : -1;
            if (a <= 0 || Long.bitCount(a) != 1) {
                throw fail("has metadata key 'general.alignment' = " + align.value() + " (" + align.describeType()
                        + "); expected a UINT32 power of two");
            }
            alignment = (int) a;
        }
        requireCount(nTensors, MIN_TENSOR_INFO, "tensor infos");
        for (long i = 0; i < nTensors; i++) {
            GgufTensorInfo t = tensorInfo(i);
            if (tensors.put(t.name(), t) != null) {
                throw fail("has tensor '" + t.name() + "' twice; expected each name once");
            }
        }
        dataStart = align(pos);
        if (dataStart > size && !tensors.isEmpty()) {
            throw fail("ends at byte " + size + ", before its data section at byte " + dataStart);
        }
        long expected = 0;
        long dataSize = size - dataStart;
        for (GgufTensorInfo t : tensors.values()) {
            if (t.byteSize() > dataSize - t.offset()) {
                throw fail("has tensor '" + t.name() + "' with " + t.byteSize() + " bytes at data offset " + t.offset()
                        + ", past the end of the data section of " + dataSize + " bytes (the file is truncated?)");
            }
            if (t.offset() != expected) {
                throw fail("has tensor '" + t.name() + "' at data offset " + t.offset() + "; expected " + expected
                        + " (tensors are stored in order, each padded to the alignment " + alignment + ")");
            }
            expected = align(t.offset() + t.byteSize());
        }
    }

    private GgufTensorInfo tensorInfo(long index) throws IOException {
        String name = string("the name of tensor " + index);
        String what = "tensor '" + name + "'";
        long nDims = u32("the dimension count of " + what);
        if (nDims < 1 || nDims > MAX_DIMS) {
            throw fail("has " + what + " with " + nDims + " dimensions; expected 1 to " + MAX_DIMS);
        }
        long[] dims = new long[(int) nDims];
        long count = 1;
        for (int d = 0; d < nDims; d++) {
            dims[d] = u64("dimension " + d + " of " + what);
            if (dims[d] < 0) {
                throw fail("has " + what + " with dimension " + d + " = " + Long.toUnsignedString(dims[d])
                        + "; expected at most " + Long.MAX_VALUE);
            }
            try {
                count = Math.multiplyExact(count, dims[d]);
            } catch (ArithmeticException e) {
                throw fail("has " + what + " with dimensions " + java.util.Arrays.toString(dims)
                        + " whose element count overflows 64 bits");
            }
        }
        long typeId = u32("the type of " + what);
        GgufType type = GgufType.byId(typeId);
        if (type == null) {
            throw fail("has " + what + " of ggml type id " + typeId + ", which is no type ggml defines");
        }
        if (dims[0] % type.blockSize() != 0) {
            throw fail("has " + what + " of type " + type + " with row length " + dims[0] + "; expected a multiple of"
                    + " its block size " + type.blockSize());
        }
        long bytes;
        try {
            bytes = Math.multiplyExact(count / type.blockSize(), (long) type.typeSize());
        } catch (ArithmeticException e) {
            throw fail("has " + what + " whose byte size overflows 64 bits");
        }
        long offset = u64("the data offset of " + what);
        if (offset < 0) {
            throw fail("has " + what + " at data offset " + Long.toUnsignedString(offset) + ", past any file");
        }
        return new GgufTensorInfo(name, dims, type, offset, bytes);
    }

    private GgufValue value(String key, long typeId, boolean inArray) throws IOException {
        GgufValueType type = GgufValueType.byId(typeId);
        String what = "the value of metadata key '" + key + "'";
        if (type == null) {
            throw fail("has metadata key '" + key + "' of value type id " + typeId + "; expected 0 to 12");
        }
        switch (type) {
            case UINT8:
                return new GgufValue(type, null, (long) (bytes(1, what)[0] & 0xff));
            case INT8:
                return new GgufValue(type, null, (long) bytes(1, what)[0]);
            case UINT16:
                return new GgufValue(type, null, number(2, what) & 0xffff);
            case INT16:
                return new GgufValue(type, null, (long) (short) number(2, what));
            case UINT32:
                return new GgufValue(type, null, u32(what));
            case INT32:
                return new GgufValue(type, null, (long) (int) number(4, what));
            case UINT64:
            case INT64:
                return new GgufValue(type, null, u64(what));
            case FLOAT32:
                return new GgufValue(type, null, Float.intBitsToFloat((int) number(4, what)));
            case FLOAT64:
                return new GgufValue(type, null, Double.longBitsToDouble(u64(what)));
            case BOOL:
                int b = bytes(1, what)[0];
                if (b != 0 && b != 1) {
                    throw fail("has metadata key '" + key + "' = BOOL byte " + b + "; expected 0 or 1");
                }
                return new GgufValue(type, null, b == 1);
            case STRING:
                return new GgufValue(type, null, string(what));
            case ARRAY:
                if (inArray) {
                    throw fail("has metadata key '" + key + "' holding an array of arrays; expected a flat array");
                }
                return array(key);
            default:
                throw new IllegalStateException(type.name());
        }
    }

    private GgufValue array(String key) throws IOException {
        long elemId = u32("the element type of metadata key '" + key + "'");
        GgufValueType elem = GgufValueType.byId(elemId);
        if (elem == null) {
            throw fail("has metadata key '" + key + "', an array of value type id " + elemId + "; expected 0 to 12");
        }
        if (elem == GgufValueType.ARRAY) {
            throw fail("has metadata key '" + key + "' holding an array of arrays; expected a flat array");
        }
        long n = u64("the length of metadata key '" + key + "'");
        requireCount(n, elem.minSize(), "elements of metadata key '" + key + "'");
        List<Object> out = new ArrayList<>((int) n);
        for (long i = 0; i < n; i++) {
            out.add(value(key + "[" + i + "]", elem.ordinal(), true).value());
        }
        return new GgufValue(GgufValueType.ARRAY, elem, Collections.unmodifiableList(out));
    }

    private void requireCount(long n, int minSize, String what) throws GgufException {
        long left = size - pos;
        if (n < 0 || n > left / minSize || n > Integer.MAX_VALUE - 8) {
            throw fail("declares " + Long.toUnsignedString(n) + " " + what + " at byte " + pos + ", but only " + left
                    + " bytes are left (each takes at least " + minSize + "; the file is truncated or corrupt)");
        }
    }

    private String string(String what) throws IOException {
        long n = u64("the length of " + what);
        long left = size - pos;
        if (n < 0 || n > left || n > Integer.MAX_VALUE - 8) {
            throw fail("declares a string of " + Long.toUnsignedString(n) + " bytes for " + what + " at byte "
                    + (pos - 8) + ", but only " + left + " bytes are left (the file is truncated or corrupt)");
        }
        long at = pos;
        byte[] b = bytes((int) n, what);
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b))
                    .toString();
        } catch (CharacterCodingException e) {
            throw fail("has " + what + " at byte " + at + " that is not valid UTF-8");
        }
    }

    private long u32(String what) throws IOException {
        return number(4, what) & 0xffffffffL;
    }

    private long u64(String what) throws IOException {
        return number(8, what);
    }

    private long number(int n, String what) throws IOException {
        byte[] b = bytes(n, what);
        long v = 0;
        for (int i = n - 1; i >= 0; i--) {
            v = (v << 8) | (b[i] & 0xff);
        }
        return v;
    }

    private byte[] bytes(int n, String what) throws IOException {
        if (n > size - pos) {
            throw fail("ends at byte " + size + " inside " + what + " (" + n + " bytes at byte " + pos
                    + "); the file is truncated");
        }
        byte[] b = in.readNBytes(n);
        if (b.length != n) {
            throw fail("ended while reading " + what + " at byte " + (pos + b.length) + " (it shrank while open?)");
        }
        pos += n;
        return b;
    }

    private long align(long x) {
        return (x + alignment - 1) / alignment * alignment;
    }

    private GgufException fail(String what) {
        return new GgufException(file + " " + what);
    }
}
