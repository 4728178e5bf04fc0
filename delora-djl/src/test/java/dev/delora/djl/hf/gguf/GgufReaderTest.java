package dev.delora.djl.hf.gguf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.delora.djl.io.Safetensors;
import dev.delora.fixtures.Fixtures;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The reader on {@code fixtures/gguf/tiny-llama.gguf} (written by gguf-py's {@code GGUFWriter},
 * {@code parity/gguf_fixture.py}): metadata of every value type against {@code expected.json}, tensor infos, and every
 * dequantized tensor bit for bit against gguf-py's numpy dequantization ({@code tensors.safetensors}).
 */
class GgufReaderTest {

    static final Path GGUF = Fixtures.path("gguf/tiny-llama.gguf");

    static float[] floats(Safetensors.Reader r, String name) throws Exception {
        ByteBuffer b = r.readRaw(name).order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[b.remaining() / 4];
        b.asFloatBuffer().get(out);
        return out;
    }

    @Test
    void headerAndMetadataMatchGgufPy() throws Exception {
        JsonObject expected = JsonParser.parseString(Files.readString(Fixtures.path("gguf/expected.json")))
                .getAsJsonObject()
                .getAsJsonObject("metadata");
        try (GgufFile f = GgufFile.open(GGUF)) {
            assertEquals(3, f.version());
            assertEquals(64, f.alignment());
            assertEquals(0, f.dataStart() % 64);
            GgufMetadata m = f.metadata();
            assertEquals("llama", m.string("general.architecture"));
            assertEquals(32, m.integer("llama.embedding_length"));
            assertEquals(96, m.strings("tokenizer.ggml.tokens").size());
            for (Map.Entry<String, JsonElement> e : expected.entrySet()) {
                String key = "test." + e.getKey();
                JsonObject want = e.getValue().getAsJsonObject();
                GgufValue v = m.get(key);
                assertEquals(want.get("type").getAsString(), v.type().name(), key);
                JsonElement w = want.get("value");
                if (v.type() == GgufValueType.ARRAY) {
                    JsonArray wa = w.getAsJsonArray();
                    List<?> got = v.list();
                    assertEquals(wa.size(), got.size(), key);
                    for (int i = 0; i < got.size(); i++) {
                        assertScalar(wa.get(i), got.get(i), v.elementType(), key + "[" + i + "]");
                    }
                } else {
                    assertScalar(w, v.value(), v.type(), key);
                }
            }
            assertEquals(0.1f, (float) m.number("test.f32"));
            assertEquals(0.1, m.number("test.f64"));
            assertEquals(true, m.bool("test.bool", false));
            assertArrayEquals(new long[] {1, -2, 3}, m.integers("test.arr_i32"));
            assertNull(m.get("no.such.key"));
        }
    }

    private static void assertScalar(JsonElement want, Object got, GgufValueType type, String what) {
        switch (type) {
            case STRING -> assertEquals(want.getAsString(), got, what);
            case BOOL -> assertEquals(want.getAsBoolean(), got, what);
            case FLOAT32 -> assertEquals(want.getAsFloat(), (Float) got, what);
            case FLOAT64 -> assertEquals(want.getAsDouble(), (Double) got, what);
            case UINT64 -> assertEquals(want.getAsBigInteger().toString(), Long.toUnsignedString((Long) got), what);
            default -> assertEquals(want.getAsLong(), (Long) got, what);
        }
    }

    @Test
    void tensorInfosHaveTheWrittenTypesAndShapes() throws Exception {
        try (GgufFile f = GgufFile.open(GGUF)) {
            Map<String, GgufTensorInfo> t = f.tensors();
            assertEquals(21, t.size());
            assertEquals(GgufType.Q8_0, t.get("token_embd.weight").type());
            assertArrayEquals(new long[] {32, 96}, t.get("token_embd.weight").dims());
            assertArrayEquals(new long[] {96, 32}, t.get("token_embd.weight").shape());
            assertEquals(GgufType.Q4_1, t.get("blk.0.attn_q.weight").type());
            assertEquals(GgufType.Q4_1, t.get("blk.0.attn_k.weight").type());
            assertEquals(GgufType.Q4_0, t.get("blk.0.attn_v.weight").type());
            assertEquals(GgufType.BF16, t.get("blk.0.attn_output.weight").type());
            assertEquals(GgufType.F16, t.get("blk.0.ffn_down.weight").type());
            assertArrayEquals(
                    new long[] {32, 48}, t.get("blk.0.ffn_down.weight").shape());
            assertEquals(GgufType.Q8_0, t.get("blk.1.attn_q.weight").type());
            assertEquals(GgufType.Q4_0, t.get("blk.1.attn_k.weight").type());
            assertEquals(GgufType.Q4_1, t.get("blk.1.attn_v.weight").type());
            assertEquals(GgufType.F32, t.get("blk.1.attn_output.weight").type());
            assertEquals(GgufType.F32, t.get("output_norm.weight").type());
            assertEquals(GgufType.Q4_1, t.get("output.weight").type());
            assertEquals(16 * 20, t.get("blk.0.attn_k.weight").byteSize()); // 16 rows of 1 block
        }
    }

    /** Every tensor without the Q/K permutation equals gguf-py's dequantization exactly, bit for bit. */
    @Test
    void dequantizedTensorsEqualGgufPyBitForBit() throws Exception {
        List<String> checked = new ArrayList<>();
        try (GgufFile f = GgufFile.open(GGUF);
                Safetensors.Reader golden = Safetensors.open(Fixtures.path("gguf/tensors.safetensors"))) {
            for (GgufConversion.Planned p : GgufConversion.plan(f)) {
                float[] got = f.dequantize(p.source().name());
                if (p.heads() > 0) {
                    got = GgufConversion.unpermute(got, (int) p.source().shape()[0], p.heads());
                }
                float[] want = floats(golden, p.hfName());
                assertEquals(want.length, got.length, p.hfName());
                for (int i = 0; i < want.length; i++) {
                    if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                        throw new AssertionError(p.hfName() + "[" + i + "] ("
                                + p.source().type() + "): " + got[i] + " != gguf-py's " + want[i]);
                    }
                }
                checked.add(p.source().type() + " " + p.hfName());
            }
            assertEquals(golden.tensors().size(), checked.size());
        }
    }

    @Test
    void halfFloatsConvertExactly() {
        assertEquals(1.0f, dev.delora.djl.io.SafetensorsDtype.halfToFloat(0x3c00));
        assertEquals(-2.0f, dev.delora.djl.io.SafetensorsDtype.halfToFloat(0xc000));
        assertEquals(65504f, dev.delora.djl.io.SafetensorsDtype.halfToFloat(0x7bff));
        assertEquals(0x1p-24f, dev.delora.djl.io.SafetensorsDtype.halfToFloat(0x0001));
        assertEquals(Float.NEGATIVE_INFINITY, dev.delora.djl.io.SafetensorsDtype.halfToFloat(0xfc00));
        assertEquals(
                Float.floatToRawIntBits(-0f),
                Float.floatToRawIntBits(dev.delora.djl.io.SafetensorsDtype.halfToFloat(0x8000)));
    }

    /** Nibble order and formulas on hand-made blocks: low nibbles are elements 0..15, high nibbles 16..31. */
    @Test
    void blockLayoutsFollowGgml() {
        ByteBuffer q40 = ByteBuffer.allocate(18).order(ByteOrder.LITTLE_ENDIAN);
        q40.putShort((short) 0x3800); // d = 0.5
        for (int j = 0; j < 16; j++) {
            q40.put((byte) (j | ((15 - j) << 4)));
        }
        float[] y = Dequantizer.dequantize(GgufType.Q4_0, q40.flip(), 32);
        assertEquals((0 - 8) * 0.5f, y[0]);
        assertEquals((15 - 8) * 0.5f, y[15]);
        assertEquals((15 - 8) * 0.5f, y[16]);
        assertEquals((0 - 8) * 0.5f, y[31]);
        ByteBuffer q41 = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN);
        q41.putShort((short) 0x3c00).putShort((short) 0xbc00); // d = 1, m = -1
        for (int j = 0; j < 16; j++) {
            q41.put((byte) (3 | (9 << 4)));
        }
        y = Dequantizer.dequantize(GgufType.Q4_1, q41.flip(), 32);
        assertEquals(2f, y[0]);
        assertEquals(8f, y[16]);
        ByteBuffer q80 = ByteBuffer.allocate(34).order(ByteOrder.LITTLE_ENDIAN);
        q80.putShort((short) 0x4000); // d = 2
        for (int j = 0; j < 32; j++) {
            q80.put((byte) (j - 16));
        }
        y = Dequantizer.dequantize(GgufType.Q8_0, q80.flip(), 32);
        assertEquals(-32f, y[0]);
        assertEquals(30f, y[31]);
    }
}
