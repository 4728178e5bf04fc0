package dev.delora.djl.hf.gguf;

import dev.delora.djl.io.SafetensorsDtype;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Dequantization to float32 exactly as ggml ({@code ggml-quants.c}, {@code dequantize_row_*}) and gguf-py's numpy
 * {@code gguf.quants.dequantize}: one float rounding per product, no fused multiply-add. In a block of 32 the low
 * nibbles of the 16 bytes are elements 0..15 and the high nibbles elements 16..31.
 */
final class Dequantizer {
    private static final int QK = 32;

    private Dequantizer() {}

    /**
     * Dequantizes raw tensor bytes.
     *
     * @param type a {@link GgufType#dequantizable()} type
     * @param raw the tensor's bytes (position 0, exactly {@code n / blockSize * typeSize} of them)
     * @param n the element count
     * @return the n floats, in storage order
     */
    static float[] dequantize(GgufType type, ByteBuffer raw, int n) {
        ByteBuffer in = raw.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[n];
        switch (type) {
            case F32 -> in.asFloatBuffer().get(out);
            case F16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = SafetensorsDtype.halfToFloat(in.getShort() & 0xffff);
                }
            }
            case BF16 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = Float.intBitsToFloat((in.getShort() & 0xffff) << 16);
                }
            }
            case Q8_0 -> {
                for (int b = 0; b < n; b += QK) {
                    float d = SafetensorsDtype.halfToFloat(in.getShort() & 0xffff);
                    for (int j = 0; j < QK; j++) {
                        out[b + j] = in.get() * d;
                    }
                }
            }
            case Q4_0 -> {
                for (int b = 0; b < n; b += QK) {
                    float d = SafetensorsDtype.halfToFloat(in.getShort() & 0xffff);
                    for (int j = 0; j < QK / 2; j++) {
                        int q = in.get() & 0xff;
                        out[b + j] = ((q & 0x0f) - 8) * d;
                        out[b + j + QK / 2] = ((q >>> 4) - 8) * d;
                    }
                }
            }
            case Q4_1 -> {
                for (int b = 0; b < n; b += QK) {
                    float d = SafetensorsDtype.halfToFloat(in.getShort() & 0xffff);
                    float m = SafetensorsDtype.halfToFloat(in.getShort() & 0xffff);
                    for (int j = 0; j < QK / 2; j++) {
                        int q = in.get() & 0xff;
                        float lo = (q & 0x0f) * d;
                        float hi = (q >>> 4) * d;
                        out[b + j] = lo + m;
                        out[b + j + QK / 2] = hi + m;
                    }
                }
            }
            default -> throw new IllegalArgumentException("no dequantization for " + type);
        }
        return out;
    }
}
