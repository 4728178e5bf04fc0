package dev.delora.djl.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.delora.fixtures.Fixtures;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files built byte by byte that break one rule of the reference implementation ({@code safetensors/src/tensor.rs})
 * each: every one must be rejected at open, naming the file and the Rust error, and the fixtures must still load.
 */
class SafetensorsStrictnessTest {

    private static final String A = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
    private static NDManager manager;

    @TempDir
    Path dir;

    @BeforeAll
    static void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterAll
    static void tearDown() {
        manager.close();
    }

    /** The 8-byte little-endian length, then the given bytes as they are. */
    private Path raw(long headerLength, byte[] rest) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + rest.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLength).put(rest);
        Path f = Files.createTempFile(dir, "t", ".safetensors");
        Files.write(f, b.array());
        return f;
    }

    /** A header (its exact UTF-8 length in the length field) followed by {@code dataBytes} bytes 1, 2, 3, ... */
    private Path file(String header, int dataBytes) throws IOException {
        return file(header, 0, dataBytes);
    }

    private Path file(String header, int lengthDelta, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(h);
        for (int i = 0; i < dataBytes; i++) {
            out.write(i + 1);
        }
        return raw(h.length + lengthDelta, out.toByteArray());
    }

    /** Asserts the file is rejected at open for the given Rust rule; returns the message. */
    private static String rejected(Path f, String rule, String... fragments) {
        Safetensors.SafetensorsException e = assertThrows(
                Safetensors.SafetensorsException.class,
                () -> Safetensors.open(f).close());
        String m = e.getMessage();
        assertTrue(m.startsWith(f.toString() + ": "), "names the file: " + m);
        assertEquals(rule, e.rule(), m);
        assertTrue(m.endsWith("[" + rule + "]"), m);
        for (String s : fragments) {
            assertTrue(m.contains(s), "'" + s + "' in: " + m);
        }
        assertTrue(m.length() < f.toString().length() + 600, "bounded message: " + m.length());
        return m;
    }

    @Test
    void headerLengthFourBytesShortNoLongerShiftsTheWeights() throws IOException {
        // the writer pads with spaces, so a length 4 short still ends after the '}' and parses
        Path ok = file(A + "    ", 8);
        try (Safetensors.Reader r = Safetensors.open(ok)) {
            assertArrayEquals(
                    new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, r.read(manager, "a").toByteArray());
        }
        rejected(file(A + "    ", -4, 8), "MetadataIncompleteBuffer", "12 bytes", "'a', ends at byte 8");
        rejected(file(A + "    ", 4, 8), "InvalidHeaderDeserialization", "after the JSON object at line 1 column");
        // no padding to eat: the JSON is cut
        rejected(file(A, -4, 8), "InvalidHeaderDeserialization");
    }

    @Test
    void tensorsMustFillTheDataSectionExactly() throws IOException {
        String gap = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}";
        rejected(file(gap, 16), "InvalidOffset", "'b'", "begins at byte 12", "expected 8, where tensor 'a' ends");
        rejected(file(A, 10), "MetadataIncompleteBuffer", "2 bytes after");
        rejected(file(A, 7), "MetadataIncompleteBuffer");
        // not starting at 0
        rejected(file(A.replace("[0,8]", "[4,12]"), 12), "InvalidOffset", "'a'", "begins at byte 4");
        // an overlap hidden behind a zero-size tensor sorted between the two
        String hidden = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"z\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[6,10]}}";
        rejected(file(hidden, 10), "InvalidOffset", "'z'");
        String overlap = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}";
        rejected(file(overlap, 12), "InvalidOffset", "'b'");
        // begin after end
        rejected(file(A.replace("[0,8]", "[8,0]"), 8), "InvalidOffset", "'a'");
    }

    @Test
    void headerOrderIsFreeAndZeroSizeTensorsSitBetweenOthers() throws IOException {
        String swapped = "{\"b\":{\"dtype\":\"I8\",\"shape\":[2],\"data_offsets\":[8,10]},"
                + "\"e\":{\"dtype\":\"I32\",\"shape\":[2,0],\"data_offsets\":[8,8]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        try (Safetensors.Reader r = Safetensors.open(file(swapped, 10))) {
            assertEquals(List.of("b", "e", "a"), List.copyOf(r.tensors().keySet()));
            assertArrayEquals(new byte[] {9, 10}, r.read(manager, "b").toByteArray());
            assertEquals(0, r.read(manager, "e").size());
        }
        // the reference's own example of trailing JSON whitespace, and an empty file
        try (Safetensors.Reader r = Safetensors.open(file("{}\r \t\n", 0))) {
            assertTrue(r.tensors().isEmpty());
        }
    }

    @Test
    void numbersMustBeIntegersInRange() throws IOException {
        rejected(file(A.replace("[2]", "[2.0]"), 8), "InvalidHeaderDeserialization", "'a'", "shape", "2.0");
        rejected(file(A.replace("[2]", "[4.5]"), 16), "InvalidHeaderDeserialization", "shape", "4.5");
        rejected(file(A.replace("[2]", "[\"2\"]"), 8), "InvalidHeaderDeserialization", "shape", "\"2\"");
        // 2^64 + 2 would wrap to 2
        rejected(file(A.replace("[2]", "[18446744073709551618]"), 8), "InvalidHeaderDeserialization", "shape");
        rejected(file(A.replace("[2]", "[-2]"), 8), "InvalidHeaderDeserialization", "-2");
        rejected(file(A.replace("[0,8]", "[1e300,8]"), 8), "InvalidHeaderDeserialization", "data_offsets", "1e300");
        rejected(file(A.replace("[0,8]", "[0,-8]"), 8), "InvalidHeaderDeserialization", "data_offsets");
        rejected(file(A.replace("[0,8]", "[0,8,8]"), 8), "InvalidHeaderDeserialization", "data_offsets");
        rejected(file(A.replace("[0,8]", "[0]"), 8), "InvalidHeaderDeserialization", "data_offsets");
        // within u64 but beyond what a file can hold
        rejected(file(A.replace("[2]", "[9223372036854775808]"), 8), "ValidationOverflow");
    }

    @Test
    void fieldsOfTheWrongTypeGiveClearErrors() throws IOException {
        rejected(file(A.replace("[2]", "{}"), 8), "InvalidHeaderDeserialization", "'a'", "shape", "an object");
        rejected(file(A.replace("[2]", "null"), 8), "InvalidHeaderDeserialization", "shape");
        rejected(file(A.replace("[0,8]", "\"0,8\""), 8), "InvalidHeaderDeserialization", "data_offsets");
        rejected(file(A.replace("\"F32\"", "32"), 8), "InvalidHeaderDeserialization", "dtype", "32");
        rejected(file(A.replace(",\"shape\":[2]", ""), 8), "InvalidHeaderDeserialization", "shape", "missing");
        rejected(file("{\"a\":[1,2]}", 0), "InvalidHeaderDeserialization", "'a'", "an array");
        rejected(file("{\"a\":7}", 0), "InvalidHeaderDeserialization", "'a'");
        // unknown fields inside an entry are ignored, as serde does
        try (Safetensors.Reader r = Safetensors.open(file(A.replace("{\"dtype\"", "{\"x\":[{}],\"dtype\""), 8))) {
            assertEquals(1, r.tensors().size());
        }
    }

    @Test
    void onlyStrictJsonIsAHeader() throws IOException {
        rejected(file(A.replace("{\"a\"", "{/* c */\"a\""), 8), "InvalidHeaderDeserialization", "not valid JSON");
        rejected(file(A.replace('"', '\''), 8), "InvalidHeaderDeserialization");
        rejected(file(A + " // trailing", 8), "InvalidHeaderDeserialization", "after the JSON object");
        rejected(file(A + "{}", 8), "InvalidHeaderDeserialization", "after the JSON object");
        rejected(file(A.replace("]}}", "],}}"), 8), "InvalidHeaderDeserialization");
        rejected(file(A + "\0\0\0", 8), "InvalidHeaderDeserialization");
        rejected(file(A.replace("\"a\"", "\"\\ud800\""), 8), "InvalidHeaderDeserialization", "surrogate \\ud800");
        rejected(file(A.replace("F32", "F32\\udc00"), 8), "InvalidHeaderDeserialization", "surrogate \\udc00");
        rejected(file("{\"a\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}", 0), "InvalidHeaderDeserialization");
        rejected(file(" " + A, 8), "InvalidHeaderStart");
        rejected(file("[" + A + "]", 8), "InvalidHeaderStart");
        rejected(file("", 0), "InvalidHeaderStart");
        rejected(raw(2, new byte[] {'{', (byte) 0xff}), "InvalidHeader", "UTF-8 (at byte 9)");
        // an encoded surrogate (CESU-8) is not UTF-8 either
        rejected(raw(4, new byte[] {'{', (byte) 0xed, (byte) 0xa0, (byte) 0x80}), "InvalidHeader", "at byte 9");
    }

    @Test
    void headerLengthAndFileSizeLimits() throws IOException {
        rejected(raw(0, new byte[0]), "InvalidHeaderStart");
        Path tiny = Files.createTempFile(dir, "tiny", ".safetensors");
        Files.write(tiny, new byte[] {1, 0, 0});
        rejected(tiny, "HeaderTooSmall", "3 bytes");
        rejected(raw(100_000_001L, A.getBytes(StandardCharsets.UTF_8)), "HeaderTooLarge", "100000001");
        rejected(raw(-1L, A.getBytes(StandardCharsets.UTF_8)), "HeaderTooLarge", "18446744073709551615");
        rejected(raw(100_000_000L, A.getBytes(StandardCharsets.UTF_8)), "InvalidHeaderLength", "100000000");
    }

    @Test
    void dtypesAndSizes() throws IOException {
        rejected(file(A.replace("F32", "F33"), 8), "InvalidHeaderDeserialization", "'a'", "'F33'", "F32");
        rejected(file(A.replace("F32", "f32"), 8), "InvalidHeaderDeserialization", "'f32'");
        String m = rejected(file(A.replace("F32", "U16").replace("[2]", "[4]"), 8), "UnsupportedDtype", "'U16'");
        assertTrue(m.contains("not supported"), m);
        rejected(file(A.replace("[2]", "[3]"), 8), "TensorInvalidInfo", "'a'", "8 bytes", "12");
        rejected(file(A.replace("[2]", "[]"), 8), "TensorInvalidInfo", "4");
    }

    @Test
    void aHugeShapeWithTinyDataFailsBeforeAnythingIsAllocated() throws IOException {
        rejected(file(A.replace("[2]", "[1000000000,1000000000]"), 8), "TensorInvalidInfo", "4000000000000000000");
        rejected(file(A.replace("[2]", "[2,9223372036854775807]"), 8), "ValidationOverflow", "'a'");
        rejected(file(A.replace("[2]", "[4611686018427387904]"), 8), "ValidationOverflow");
        // consistent with itself, but the data is not there
        String big = A.replace("[2]", "[1000000000000]").replace("[0,8]", "[0,4000000000000]");
        rejected(file(big, 8), "MetadataIncompleteBuffer", "4000000000000");
    }

    @Test
    void metadataIsAMapOfStrings() throws IOException {
        String meta = "{\"__metadata__\":%s,\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        rejected(file(meta.formatted("{\"n\":1}"), 8), "InvalidHeaderDeserialization", "__metadata__", "'n'");
        rejected(file(meta.formatted("{\"n\":{}}"), 8), "InvalidHeaderDeserialization", "__metadata__");
        rejected(file(meta.formatted("[]"), 8), "InvalidHeaderDeserialization", "__metadata__");
        rejected(file(meta.formatted("\"x\""), 8), "InvalidHeaderDeserialization", "__metadata__");
        try (Safetensors.Reader r = Safetensors.open(file(meta.formatted("null"), 8))) {
            assertEquals(Map.of(), r.metadata());
        }
        try (Safetensors.Reader r = Safetensors.open(file(meta.formatted("{\"k\":\"v\"}"), 8))) {
            assertEquals(Map.of("k", "v"), r.metadata());
        }
    }

    @Test
    void untrustedTextIsCutInMessages() throws IOException {
        String name = "n".repeat(1 << 20);
        String h = A.replace("\"a\"", "\"" + name + "\"");
        rejected(file(h, 10), "MetadataIncompleteBuffer");
        rejected(file(h.replace("F32", "X".repeat(1 << 20)), 8), "InvalidHeaderDeserialization", "nnn…");
        rejected(file(h.replace("[2]", "[3]"), 8), "TensorInvalidInfo", "nnn…");
        rejected(file(h.replace("[0,8]", "[4,12]"), 12), "InvalidOffset", "nnn…");
        rejected(file(h.replace("[2]", "[2" + "0".repeat(1 << 20) + "]"), 8), "InvalidHeaderDeserialization");
        rejected(file(h.replace("[2]", "[2] x"), 8), "InvalidHeaderDeserialization");
        rejected(file(h.replace("\"F32\"", "\"F32\u0001\""), 8), "InvalidHeaderDeserialization");
        try (Safetensors.Reader r = Safetensors.open(file(h, 8))) {
            Exception e = assertThrows(IllegalArgumentException.class, () -> r.info("b".repeat(1 << 20)));
            assertTrue(
                    e.getMessage().length() < 600, "bounded: " + e.getMessage().length());
        }
    }

    @Test
    void everyFixtureStillLoads() throws IOException {
        List<Path> files = new ArrayList<>();
        for (String root : List.of("hf", "peft", "grads")) {
            try (Stream<Path> s = Files.walk(Fixtures.dir(root))) {
                s.filter(p -> p.toString().endsWith(".safetensors")).forEach(files::add);
            }
        }
        assertTrue(files.size() >= 15, "fixtures found: " + files);
        for (Path f : files) {
            try (NDManager m = manager.newSubManager()) {
                Map<String, NDArray> t = Safetensors.load(m, f);
                assertTrue(!t.isEmpty(), f.toString());
            }
        }
    }
}
