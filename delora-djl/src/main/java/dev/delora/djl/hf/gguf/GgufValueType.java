package dev.delora.djl.hf.gguf;

/**
 * The metadata value types of GGUF ({@code enum gguf_type}, ids as in the spec). Integers are read as {@code Long}
 * (a UINT64 keeps its 64 bits, so one of 2^63 or more reads as negative), FLOAT32 as {@code Float}, FLOAT64 as
 * {@code Double}, BOOL as {@code Boolean}, STRING as {@code String} and ARRAY as an unmodifiable {@code List} of its
 * elements' values.
 */
public enum GgufValueType {
    /** Unsigned 8-bit integer. */
    UINT8(1),
    /** Signed 8-bit integer. */
    INT8(1),
    /** Unsigned 16-bit integer. */
    UINT16(2),
    /** Signed 16-bit integer. */
    INT16(2),
    /** Unsigned 32-bit integer. */
    UINT32(4),
    /** Signed 32-bit integer. */
    INT32(4),
    /** IEEE float. */
    FLOAT32(4),
    /** One byte, 0 or 1. */
    BOOL(1),
    /** UTF-8 string: u64 byte length, then the bytes. */
    STRING(8),
    /** u32 element type, u64 count, then the elements. */
    ARRAY(12),
    /** Unsigned 64-bit integer. */
    UINT64(8),
    /** Signed 64-bit integer. */
    INT64(8),
    /** IEEE double. */
    FLOAT64(8);

    private final int minSize;

    GgufValueType(int minSize) {
        this.minSize = minSize;
    }

    /**
     * Returns the fewest bytes one value of this type takes in a file (the size of a fixed-size value).
     *
     * @return bytes
     */
    int minSize() {
        return minSize;
    }

    /**
     * Tells whether this is one of the eight integer types.
     *
     * @return true for UINT8 to INT32, UINT64 and INT64
     */
    public boolean isInteger() {
        return ordinal() <= INT32.ordinal() || this == UINT64 || this == INT64;
    }

    /**
     * Looks a type up by id.
     *
     * @param id the stored u32
     * @return the type, or {@code null} for an id the spec does not define
     */
    public static GgufValueType byId(long id) {
        return id >= 0 && id < values().length ? values()[(int) id] : null;
    }
}
