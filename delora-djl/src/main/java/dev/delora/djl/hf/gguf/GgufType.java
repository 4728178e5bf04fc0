package dev.delora.djl.hf.gguf;

/**
 * The tensor element types of ggml ({@code enum ggml_type}, ids as in {@code ggml.h}), with their block layout: a
 * tensor of {@code n} elements takes {@code n / blockSize * typeSize} bytes, and its innermost dimension must be a
 * multiple of {@code blockSize}. Only {@link #dequantizable()} types can be turned into float32 here; the others are
 * known so that a file holding them can still be opened, listed and refused by name.
 */
public enum GgufType {
    /** IEEE float. */
    F32(0, 1, 4, true),
    /** IEEE half. */
    F16(1, 1, 2, true),
    /** Blocks of 32: fp16 scale d, 16 bytes of 4-bit q; y = (q - 8) * d. */
    Q4_0(2, 32, 18, true),
    /** Blocks of 32: fp16 scale d, fp16 min m, 16 bytes of 4-bit q; y = q * d + m. */
    Q4_1(3, 32, 20, true),
    /** 5-bit, blocks of 32 (not dequantized here). */
    Q5_0(6, 32, 22, false),
    /** 5-bit with min, blocks of 32 (not dequantized here). */
    Q5_1(7, 32, 24, false),
    /** Blocks of 32: fp16 scale d, 32 int8 q; y = q * d. */
    Q8_0(8, 32, 34, true),
    /** 8-bit with sum, blocks of 32 (not dequantized here). */
    Q8_1(9, 32, 40, false),
    /** K-quant (not dequantized here). */
    Q2_K(10, 256, 84, false),
    /** K-quant (not dequantized here). */
    Q3_K(11, 256, 110, false),
    /** K-quant (not dequantized here). */
    Q4_K(12, 256, 144, false),
    /** K-quant (not dequantized here). */
    Q5_K(13, 256, 176, false),
    /** K-quant (not dequantized here). */
    Q6_K(14, 256, 210, false),
    /** K-quant (not dequantized here). */
    Q8_K(15, 256, 292, false),
    /** I-quant (not dequantized here). */
    IQ2_XXS(16, 256, 66, false),
    /** I-quant (not dequantized here). */
    IQ2_XS(17, 256, 74, false),
    /** I-quant (not dequantized here). */
    IQ3_XXS(18, 256, 98, false),
    /** I-quant (not dequantized here). */
    IQ1_S(19, 256, 50, false),
    /** I-quant (not dequantized here). */
    IQ4_NL(20, 32, 18, false),
    /** I-quant (not dequantized here). */
    IQ3_S(21, 256, 110, false),
    /** I-quant (not dequantized here). */
    IQ2_S(22, 256, 82, false),
    /** I-quant (not dequantized here). */
    IQ4_XS(23, 256, 136, false),
    /** 8-bit integer (not dequantized here). */
    I8(24, 1, 1, false),
    /** 16-bit integer (not dequantized here). */
    I16(25, 1, 2, false),
    /** 32-bit integer (not dequantized here). */
    I32(26, 1, 4, false),
    /** 64-bit integer (not dequantized here). */
    I64(27, 1, 8, false),
    /** IEEE double (not dequantized here). */
    F64(28, 1, 8, false),
    /** I-quant (not dequantized here). */
    IQ1_M(29, 256, 56, false),
    /** bfloat16: the upper 16 bits of a float. */
    BF16(30, 1, 2, true),
    /** Ternary quant (not dequantized here). */
    TQ1_0(34, 256, 54, false),
    /** Ternary quant (not dequantized here). */
    TQ2_0(35, 256, 66, false),
    /** Microscaling FP4 (not dequantized here). */
    MXFP4(39, 32, 17, false);

    private final int id;
    private final int blockSize;
    private final int typeSize;
    private final boolean dequantizable;

    GgufType(int id, int blockSize, int typeSize, boolean dequantizable) {
        this.id = id;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
        this.dequantizable = dequantizable;
    }

    /**
     * Returns the id stored in a tensor info.
     *
     * @return the {@code ggml_type} value
     */
    public int id() {
        return id;
    }

    /**
     * Returns the number of elements in one block.
     *
     * @return 1 for plain types, 32 or 256 for quantized ones
     */
    public int blockSize() {
        return blockSize;
    }

    /**
     * Returns the number of bytes of one block.
     *
     * @return bytes per block
     */
    public int typeSize() {
        return typeSize;
    }

    /**
     * Tells whether {@link GgufFile#dequantize} supports this type.
     *
     * @return true for F32, F16, BF16, Q8_0, Q4_0 and Q4_1
     */
    public boolean dequantizable() {
        return dequantizable;
    }

    /**
     * Looks a type up by id.
     *
     * @param id the {@code ggml_type} value
     * @return the type, or {@code null} when the id is none ggml defines (or a removed one, such as 4 and 5)
     */
    public static GgufType byId(long id) {
        for (GgufType t : values()) {
            if (t.id == id) {
                return t;
            }
        }
        return null;
    }
}
