package dev.delora.djl.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.delora.fixtures.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The index of a sharded checkpoint may only name files in its own folder. */
class SafetensorsCheckpointTest {

    private static final String KEY = "bert.embeddings.word_embeddings.weight";
    private static final String SHARD = "model-00001-of-00002.safetensors";

    @TempDir
    Path tmp;

    /** Copies the sharded fixture to {@code tmp/outer/model}, with the first shard also one and two levels up. */
    private Path sharded() throws IOException {
        Path model = Files.createDirectories(tmp.resolve("outer/model"));
        try (Stream<Path> files = Files.list(Fixtures.dir("hf/tiny-bert-sharded"))) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, model.resolve(f.getFileName().toString()));
            }
        }
        Files.copy(model.resolve(SHARD), tmp.resolve("outer").resolve(SHARD));
        Files.copy(model.resolve(SHARD), tmp.resolve(SHARD));
        return model;
    }

    private static Path editIndex(Path model, Consumer<JsonObject> edit) throws IOException {
        Path index = model.resolve(SafetensorsCheckpoint.INDEX);
        JsonObject o = JsonParser.parseString(Files.readString(index)).getAsJsonObject();
        edit.accept(o.getAsJsonObject("weight_map"));
        Files.writeString(index, o.toString());
        return index;
    }

    private String rejected(Path model, String shard) throws IOException {
        Path index = editIndex(model, m -> m.addProperty(KEY, shard));
        IOException e = assertThrows(
                IOException.class, () -> SafetensorsCheckpoint.open(model).close());
        String m = e.getMessage();
        assertTrue(m.startsWith(index.toString()) && m.contains("'" + KEY + "'"), "names index and entry: " + m);
        assertThrows(IOException.class, () -> SafetensorsCheckpoint.weightMap(index));
        return m;
    }

    @Test
    void shardsOutsideTheIndexFolderAreRejected() throws IOException {
        Path model = sharded();
        try (SafetensorsCheckpoint ok = SafetensorsCheckpoint.open(model)) {
            assertTrue(ok.keys().contains(KEY));
        }
        assertTrue(rejected(model, "../" + SHARD).contains("is a path"));
        assertTrue(rejected(model, "../../" + SHARD).contains("is a path"));
        assertTrue(rejected(model, tmp.resolve(SHARD).toString()).contains("is a path"));
        assertTrue(rejected(model, "./" + SHARD).contains("is a path"));
        assertTrue(rejected(model, "..\\" + SHARD).contains("is a path"));
        assertTrue(rejected(model, "..").contains("not a file name"));
        assertTrue(rejected(model, "").contains("not a file name"));
        assertTrue(rejected(model, "a\0b").contains("not a valid file name"));
        assertTrue(rejected(model, "x".repeat(1 << 20)).contains("longer than a file name"));
        String m = rejected(model, "../" + "x".repeat(1 << 20));
        assertTrue(m.length() < 600 + model.toString().length(), "bounded: " + m.length());
    }

    @Test
    void malformedIndexesFailNamingTheIndex() throws IOException {
        Path model = sharded();
        Path index = editIndex(model, m -> m.addProperty(KEY, 5));
        IOException e = assertThrows(IOException.class, () -> SafetensorsCheckpoint.open(model));
        assertTrue(e.getMessage().contains("'" + KEY + "'") && e.getMessage().contains("not a string"), e.getMessage());
        for (String text :
                new String[] {"{/* c */\"weight_map\":{}}", "{'weight_map':{}}", "{\"weight_map\":{}} x", "[]"}) {
            Files.writeString(index, text);
            e = assertThrows(IOException.class, () -> SafetensorsCheckpoint.open(model));
            assertTrue(e.getMessage().startsWith(index.toString()), e.getMessage());
        }
        Files.writeString(index, "{\"weight_map\":[]}");
        e = assertThrows(IOException.class, () -> SafetensorsCheckpoint.open(model));
        assertTrue(e.getMessage().contains("weight_map"), e.getMessage());
    }

    @Test
    void weightMapListsTheShards() throws IOException {
        Path index = Fixtures.dir("hf/tiny-bert-sharded").resolve(SafetensorsCheckpoint.INDEX);
        var map = SafetensorsCheckpoint.weightMap(index);
        assertEquals(SHARD, map.get(KEY));
        assertEquals(2, map.values().stream().distinct().count());
    }
}
