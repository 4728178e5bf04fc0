package dev.delora.djl.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.delora.fixtures.Fixtures;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The safetensors reader against files written by the Python library (parity/hf_models.py), and bad files. */
class SafetensorsTest {

    private static NDManager manager;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    @Test
    void pythonWrittenDtypesReadAndHalfFloatsConvertExactly() throws IOException {
        Map<String, NDArray> t = Safetensors.load(manager, Fixtures.path("hf/dtypes.safetensors"));
        Map<String, NDArray> f32 = Safetensors.load(manager, Fixtures.path("hf/dtypes_as_f32.safetensors"));
        for (String k : List.of("f16", "bf16", "f64")) {
            NDArray a = t.get(k);
            assertEquals(k.equals("f64") ? DataType.FLOAT64 : DataType.FLOAT32, a.getDataType(), k);
            // bit-exact: torch's .float() of the same half values
            assertArrayEquals(
                    f32.get(k).toFloatArray(), a.toType(DataType.FLOAT32, false).toFloatArray(), k);
        }
        assertEquals(65504f, t.get("f16").getFloat(1, 0));
        assertEquals((float) Math.pow(2, -14) * -1, t.get("f16").getFloat(1, 1));
        assertArrayEquals(new long[] {-3, 0, 1L << 40}, t.get("i64").toLongArray());
        assertArrayEquals(new int[] {7, -8}, t.get("i32").toIntArray());
        assertArrayEquals(new byte[] {-128, 127}, t.get("i8").toByteArray());
        assertArrayEquals(new byte[] {0, (byte) 255}, t.get("u8").toByteArray());
        assertArrayEquals(new boolean[] {true, false, true}, t.get("bool").toBooleanArray());
        assertEquals(new Shape(), t.get("scalar").getShape());
        assertEquals(2.5f, t.get("scalar").getFloat());
        assertEquals(new Shape(0, 3), t.get("empty").getShape());
        try (Safetensors.Reader r = Safetensors.open(Fixtures.path("hf/dtypes.safetensors"))) {
            assertEquals(Map.of("format", "pt", "note", "delora"), r.metadata());
            assertEquals(SafetensorsDtype.BF16, r.info("bf16").dtype());
        }
    }

    @Test
    void subnormalAndSpecialHalfValues() {
        assertEquals(0x1p-24f, SafetensorsDtype.halfToFloat(0x0001));
        assertEquals(-0x1.ff8p-15f, SafetensorsDtype.halfToFloat(0x83ff));
        assertEquals(Float.POSITIVE_INFINITY, SafetensorsDtype.halfToFloat(0x7c00));
        assertTrue(Float.isNaN(SafetensorsDtype.halfToFloat(0x7e00)));
        assertEquals(1.0f, SafetensorsDtype.halfToFloat(0x3c00));
    }

    @Test
    void roundTripWritesPythonCompatibleLayout(@TempDir Path dir) throws IOException {
        Map<String, NDArray> in = new LinkedHashMap<>();
        in.put("z.weight", manager.create(new float[] {1, 2, 3, 4, 5, 6}, new Shape(2, 3)));
        in.put("a.ids", manager.create(new long[] {5, -6}));
        in.put("m.flag", manager.create(new boolean[] {true, false}));
        in.put("d", manager.create(new double[] {Math.PI}));
        Path f = dir.resolve("x.safetensors");
        Safetensors.write(f, in, Map.of("who", "test"));
        byte[] bytes = Files.readAllBytes(f);
        long headerLen =
                ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLen % 8, "header padded to a multiple of 8");
        String header = new String(bytes, 8, (int) headerLen, StandardCharsets.UTF_8);
        assertTrue(header.startsWith("{\"__metadata__\":{\"format\":\"pt\",\"who\":\"test\"},\"a.ids\""), header);
        assertTrue(
                header.indexOf("\"d\"") < header.indexOf("\"m.flag\"")
                        && header.indexOf("\"m.flag\"") < header.indexOf("\"z.weight\""),
                "sorted keys: " + header);
        Map<String, NDArray> out = Safetensors.load(manager, f);
        assertEquals(List.of("a.ids", "d", "m.flag", "z.weight"), List.copyOf(out.keySet()));
        for (String k : in.keySet()) {
            assertEquals(in.get(k), out.get(k), k);
        }
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temp file left behind");
        }
    }

    static Path file(Path dir, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        Path f = Files.createTempFile(dir, "bad", ".safetensors");
        Files.write(f, b.array());
        return f;
    }

    static String error(Path f) {
        Exception e = assertThrows(
                Safetensors.SafetensorsException.class,
                () -> Safetensors.open(f).close());
        assertTrue(e.getMessage().startsWith(f.toString()), "message names the file: " + e.getMessage());
        return e.getMessage();
    }

    @Test
    void invalidFilesGiveClearErrors(@TempDir Path dir) throws IOException {
        String ok = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        // truncated data section
        assertTrue(error(file(dir, ok, 4)).contains("'a'"));
        assertTrue(error(file(dir, ok, 4)).contains("truncated file"));
        // unknown dtype
        String m = error(file(dir, ok.replace("F32", "F8_E4M3"), 8));
        assertTrue(m.contains("dtype 'F8_E4M3'") && m.contains("'a'"), m);
        // overlapping ranges
        m = error(file(
                dir,
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                12));
        assertTrue(m.contains("overlap") && m.contains("'a'") && m.contains("'b'"), m);
        // size inconsistent with shape
        m = error(file(dir, ok.replace("[2]", "[3]"), 8));
        assertTrue(m.contains("needs 12"), m);
        // begin > end
        assertTrue(error(file(dir, ok.replace("[0,8]", "[8,0]"), 8)).contains("begin <= end"));
        // header length larger than the file
        Path f = Files.createTempFile(dir, "short", ".safetensors");
        Files.write(
                f,
                ByteBuffer.allocate(12)
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .putLong(1000)
                        .array());
        assertTrue(error(f).contains("header length 1000"));
        // shorter than 8 bytes
        Path tiny = Files.createTempFile(dir, "tiny", ".safetensors");
        Files.write(tiny, new byte[3]);
        assertTrue(error(tiny).contains("shorter than the 8-byte header length"));
        // not JSON
        assertTrue(error(file(dir, "{not json", 0)).contains("not valid JSON"));
    }

    @Test
    void shardedCheckpointReadsThroughTheIndex() throws IOException {
        try (SafetensorsCheckpoint sharded = SafetensorsCheckpoint.open(Fixtures.dir("hf/tiny-bert-sharded"));
                SafetensorsCheckpoint single = SafetensorsCheckpoint.open(Fixtures.dir("hf/tiny-bert"))) {
            assertEquals(new java.util.TreeSet<>(single.keys()), new java.util.TreeSet<>(sharded.keys()));
            for (String k : single.keys()) {
                assertEquals(single.load(manager, k), sharded.load(manager, k), k);
            }
        }
    }
}
