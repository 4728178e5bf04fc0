package dev.delora.djl.hf.gguf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Malformed and unsupported GGUF files: each fails with a {@link GgufException} naming the file and the problem, and a
 * failed conversion leaves the output folder as it was.
 */
class GgufMalformedTest {

    @TempDir
    Path tmp;

    private static byte[] fixture() throws Exception {
        return Files.readAllBytes(GgufReaderTest.GGUF);
    }

    /** Byte index just after a GGUF string (u64 length + bytes) with this content. */
    private static int after(byte[] file, String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        byte[] needle = ByteBuffer.allocate(8 + b.length)
                .order(ByteOrder.LITTLE_ENDIAN)
                .putLong(b.length)
                .put(b)
                .array();
        for (int i = 0; i + needle.length <= file.length; i++) {
            if (Arrays.equals(file, i, i + needle.length, needle, 0, needle.length)) {
                return i + needle.length;
            }
        }
        throw new AssertionError("'" + s + "' not in the fixture");
    }

    /** Byte index of the type field of a tensor info. */
    private static int typeField(byte[] file, String tensor) {
        int p = after(file, tensor);
        int nDims = ByteBuffer.wrap(file, p, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        return p + 4 + 8 * nDims;
    }

    private Path write(byte[] b) throws Exception {
        Path f = tmp.resolve("bad.gguf");
        Files.write(f, b);
        return f;
    }

    private GgufException openFails(byte[] b, String... parts) throws Exception {
        Path f = write(b);
        GgufException e =
                assertThrows(GgufException.class, () -> GgufFile.open(f).close());
        assertMentions(e, f, parts);
        return e;
    }

    private static void assertMentions(Exception e, Path f, String... parts) {
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "'" + p + "' not in: " + e.getMessage());
        }
    }

    @Test
    void badMagic() throws Exception {
        byte[] b = fixture();
        b[0] = 'X';
        openFails(b, "magic", "58 47 55 46");
        openFails(new byte[] {'G', 'G'}, "2 bytes", "magic");
    }

    @Test
    void unsupportedVersion() throws Exception {
        byte[] b = fixture();
        b[4] = 1;
        openFails(b, "version 1", "expected 2 or 3");
        b[4] = 0;
        b[7] = 3; // a big-endian 3
        openFails(b, "big-endian");
    }

    @Test
    void truncatedHeader() throws Exception {
        byte[] b = fixture();
        int cut = after(b, "llama.context_length") + 2;
        openFails(Arrays.copyOf(b, cut), "truncated");
        cut = after(b, "tokenizer.chat_template") + 4 + 8 + 10;
        openFails(Arrays.copyOf(b, cut), "'tokenizer.chat_template'", "truncated");
    }

    @Test
    void truncatedData() throws Exception {
        byte[] b = fixture();
        openFails(Arrays.copyOf(b, b.length - 100), "'output.weight'", "past the end of the data section");
    }

    @Test
    void tensorOffsetPastTheEnd() throws Exception {
        byte[] b = fixture();
        int at = typeField(b, "blk.1.ffn_up.weight") + 4;
        ByteBuffer.wrap(b, at, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40);
        openFails(b, "'blk.1.ffn_up.weight'", "data offset " + (1L << 40), "past the end");
    }

    @Test
    void hugeCountsAreRefusedBeforeAllocation() throws Exception {
        byte[] b = fixture();
        ByteBuffer.wrap(b, 16, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE); // metadata count
        openFails(b, "metadata key/values", "bytes are left");
        b = fixture();
        int len = after(b, "tokenizer.ggml.tokens") + 8; // value type, element type, then the u64 count
        ByteBuffer.wrap(b, len, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 50);
        openFails(b, "tokenizer.ggml.tokens", "bytes are left");
    }

    @Test
    void unknownTypeId() throws Exception {
        byte[] b = fixture();
        b[typeField(b, "blk.0.attn_v.weight")] = 4; // Q4_2, removed from ggml
        openFails(b, "'blk.0.attn_v.weight'", "type id 4");
    }

    /** IQ4_NL has Q4_0's block size and layout size, so the file stays valid but the tensor cannot be read. */
    @Test
    void unsupportedTypeIsRefusedNamingTensorAndType() throws Exception {
        byte[] b = fixture();
        b[typeField(b, "blk.0.attn_v.weight")] = (byte) GgufType.IQ4_NL.id();
        Path f = write(b);
        try (GgufFile g = GgufFile.open(f)) {
            assertEquals(GgufType.IQ4_NL, g.tensors().get("blk.0.attn_v.weight").type());
            assertEquals(32 * 32, g.dequantize("blk.0.attn_q.weight").length);
            GgufException e = assertThrows(GgufException.class, () -> g.dequantize("blk.0.attn_v.weight"));
            assertMentions(e, f, "'blk.0.attn_v.weight'", "IQ4_NL");
        }
        Path outDir = tmp.resolve("out");
        GgufException e = assertThrows(GgufException.class, () -> GgufConversion.toHfFolder(f, outDir));
        assertMentions(e, f, "'blk.0.attn_v.weight'", "IQ4_NL");
        assertFalse(Files.exists(outDir));
    }

    @Test
    void unsupportedArchitectureNamesKeyAndValue() throws Exception {
        byte[] b = fixture();
        int p = after(b, "general.architecture") + 4 + 8; // value type, string length
        System.arraycopy("qwen2".getBytes(StandardCharsets.US_ASCII), 0, b, p, 5); // "llama" -> "qwen2"
        Path f = write(b);
        GgufException e = assertThrows(GgufException.class, () -> GgufConversion.toHfFolder(f, tmp.resolve("o")));
        assertMentions(e, f, "general.architecture", "'qwen2'", "'llama'");
    }

    /**
     * A merge without a space fails while the folder is being written (config.json is already there): the target keeps
     * its old content and no temp folder is left behind.
     */
    @Test
    void failedConversionLeavesTheFolderAsItWas() throws Exception {
        byte[] b = fixture();
        int p = after(b, "e r");
        b[p - 2] = '_';
        Path f = write(b);
        Path outDir = tmp.resolve("model");
        Files.createDirectories(outDir);
        Files.writeString(outDir.resolve("config.json"), "{\"old\": true}");
        GgufException e = assertThrows(GgufException.class, () -> GgufConversion.toHfFolder(f, outDir));
        assertMentions(e, f, "tokenizer.ggml.merges", "'e_r'");
        try (var s = Files.list(outDir)) {
            assertEquals(List.of(outDir.resolve("config.json")), s.toList());
        }
        assertEquals("{\"old\": true}", Files.readString(outDir.resolve("config.json")));
        try (var s = Files.list(tmp)) {
            assertEquals(
                    List.of(),
                    s.filter(x -> x.getFileName().toString().startsWith(".")).toList());
        }
        Path fresh = tmp.resolve("fresh");
        assertThrows(GgufException.class, () -> GgufConversion.toHfFolder(f, fresh));
        assertFalse(Files.exists(fresh));
    }

    @Test
    void nonModelFolderIsNotReplaced() throws Exception {
        Path outDir = tmp.resolve("docs");
        Files.createDirectories(outDir);
        Files.writeString(outDir.resolve("notes.txt"), "keep");
        assertThrows(IllegalArgumentException.class, () -> GgufConversion.toHfFolder(GgufReaderTest.GGUF, outDir));
        assertEquals("keep", Files.readString(outDir.resolve("notes.txt")));
    }
}
