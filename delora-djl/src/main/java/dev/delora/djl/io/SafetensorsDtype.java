package dev.delora.djl.io;

import ai.djl.ndarray.types.DataType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Set;

/** The element types of the safetensors format, and the half-precision conversions reading them needs. */
public enum SafetensorsDtype {
    /** IEEE double. */
    F64(8, DataType.FLOAT64),
    /** IEEE float. */
    F32(4, DataType.FLOAT32),
    /** IEEE half; read as F32. */
    F16(2, DataType.FLOAT32),
    /** bfloat16; read as F32 (a BF16 array would crash the PyTorch engine). */
    BF16(2, DataType.FLOAT32),
    /** 64-bit signed integer. */
    I64(8, DataType.INT64),
    /** 32-bit signed integer. */
    I32(4, DataType.INT32),
    /** 16-bit signed integer. */
    I16(2, DataType.INT16),
    /** 8-bit signed integer. */
    I8(1, DataType.INT8),
    /** 8-bit unsigned integer. */
    U8(1, DataType.UINT8),
    /** Boolean stored as one byte. */
    BOOL(1, DataType.BOOLEAN);

    /** Dtypes the format defines (the reference's {@code Dtype} enum) that this reader cannot load. */
    static final Set<String> UNSUPPORTED =
            Set.of("U16", "U32", "U64", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64");

    private final int size;
    private final DataType loadedAs;

    SafetensorsDtype(int size, DataType loadedAs) {
        this.size = size;
        this.loadedAs = loadedAs;
    }

    /**
     * Returns the size of one element in the file.
     *
     * @return bytes per element
     */
    public int size() {
        return size;
    }

    /**
     * Returns the DJL type an array read from this dtype has.
     *
     * @return the in-memory data type
     */
    public DataType loadedAs() {
        return loadedAs;
    }

    /**
     * Looks up a dtype by its exact name in a header.
     *
     * @param name e.g. {@code "F32"}
     * @return the dtype, or {@code null} when the name is not one this reader loads
     */
    static SafetensorsDtype byName(String name) {
        for (SafetensorsDtype d : values()) {
            if (d.name().equals(name)) {
                return d;
            }
        }
        return null;
    }

    static SafetensorsDtype of(DataType type) {
        switch (type) {
            case FLOAT64:
                return F64;
            case FLOAT32:
                return F32;
            case FLOAT16:
                return F16;
            case INT64:
                return I64;
            case INT32:
                return I32;
            case INT16:
                return I16;
            case INT8:
                return I8;
            case UINT8:
                return U8;
            case BOOLEAN:
                return BOOL;
            default:
                throw new IllegalArgumentException("Cannot write a " + type + " array to safetensors");
        }
    }

    /**
     * Converts little-endian F16 or BF16 bytes to little-endian F32 bytes.
     *
     * @param raw the 2-byte values
     * @param dtype {@link SafetensorsDtype#F16} or {@link SafetensorsDtype#BF16}
     * @return a heap buffer of floats
     */
    static ByteBuffer toF32(ByteBuffer raw, SafetensorsDtype dtype) {
        ByteBuffer in = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int n = in.remaining() / 2;
        ByteBuffer out = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            int bits = in.getShort() & 0xffff;
            out.putFloat(dtype == BF16 ? Float.intBitsToFloat(bits << 16) : halfToFloat(bits));
        }
        out.flip();
        return out;
    }

    /**
     * Exact IEEE 754 binary16 to binary32 conversion (Java 17 has no {@code Float.float16ToFloat}).
     *
     * @param h the 16 bits
     * @return the float value
     */
    public static float halfToFloat(int h) {
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            if (mant == 0) {
                return Float.intBitsToFloat(sign);
            }
            float v = mant * 0x1p-24f; // subnormal: mant * 2^-24, exact in float
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }
}
