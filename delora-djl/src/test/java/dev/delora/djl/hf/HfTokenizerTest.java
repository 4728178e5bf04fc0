package dev.delora.djl.hf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.delora.fixtures.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Token ids, masks and type ids against transformers' PreTrainedTokenizerFast (parity/hf_models.py). */
class HfTokenizerTest {

    private static final JsonObject GOLDEN =
            JsonParser.parseString(Fixtures.text("hf/tokenizer_golden.json")).getAsJsonObject();

    static long[][] matrix(JsonObject o, String key) {
        JsonArray rows = o.getAsJsonArray(key);
        long[][] out = new long[rows.size()][];
        for (int i = 0; i < out.length; i++) {
            JsonArray r = rows.get(i).getAsJsonArray();
            out[i] = new long[r.size()];
            for (int j = 0; j < out[i].length; j++) {
                out[i][j] = r.get(j).getAsLong();
            }
        }
        return out;
    }

    static void assertBatch(JsonObject expected, HfTokenizer.Batch b) {
        assertArrayEquals(matrix(expected, "input_ids"), b.inputIds());
        assertArrayEquals(matrix(expected, "attention_mask"), b.attentionMask());
        assertArrayEquals(matrix(expected, "token_type_ids"), b.tokenTypeIds());
    }

    @Test
    void singlesAndPairsMatchTransformers() throws IOException {
        int max = GOLDEN.get("max_length").getAsInt();
        JsonObject singles = GOLDEN.getAsJsonObject("singles");
        JsonObject pairs = GOLDEN.getAsJsonObject("pairs");
        List<String> texts = new ArrayList<>();
        singles.getAsJsonArray("text").forEach(e -> texts.add(e.getAsString()));
        List<String> a = new ArrayList<>();
        List<String> b = new ArrayList<>();
        pairs.getAsJsonArray("text").forEach(e -> {
            a.add(e.getAsJsonArray().get(0).getAsString());
            b.add(e.getAsJsonArray().get(1).getAsString());
        });
        try (HfTokenizer tok = HfTokenizer.load(Fixtures.dir("hf/tiny-bert"), HfTokenizer.Options.of(max))) {
            assertEquals(0, tok.padId());
            assertBatch(singles, tok.encode(texts));
            HfTokenizer.Batch p = tok.encodePairs(a, b);
            assertBatch(pairs, p);
            assertTrue(p.inputIds()[0].length == max, "the pair batch is truncated to max_length");
            try (NDManager m = NDManager.newBaseManager()) {
                NDList nd = p.toNDList(m);
                assertEquals(DataType.INT64, nd.get(0).getDataType());
                assertEquals(3, nd.size());
            }
        }
        try (HfTokenizer tok = HfTokenizer.load(
                Fixtures.path("hf/tokenizer/tokenizer.json"),
                new HfTokenizer.Options(max, HfTokenizer.Padding.MAX_LENGTH, true))) {
            assertBatch(GOLDEN.getAsJsonObject("pairs_max_length"), tok.encodePairs(a, b));
        }
    }

    @Test
    void missingFileAndMissingPadTokenAreClearErrors(@TempDir Path dir) throws IOException {
        IOException e = assertThrows(IOException.class, () -> HfTokenizer.load(dir, HfTokenizer.Options.of(8)));
        assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
        String json = Fixtures.text("hf/tokenizer/tokenizer.json").replace("[PAD]", "[NOPAD]");
        Files.writeString(dir.resolve("tokenizer.json"), json);
        IOException e2 = assertThrows(IOException.class, () -> HfTokenizer.load(dir, HfTokenizer.Options.of(8)));
        assertTrue(e2.getMessage().contains("pad token"), e2.getMessage());
    }
}
