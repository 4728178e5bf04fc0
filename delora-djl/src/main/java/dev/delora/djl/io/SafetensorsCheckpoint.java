package dev.delora.djl.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Hugging Face checkpoint in safetensors form: {@code model.safetensors}, or shards listed in
 * {@code model.safetensors.index.json} ({@code weight_map}: key to shard file).
 */
public final class SafetensorsCheckpoint implements TensorSource {

    /** The single-file checkpoint name transformers writes. */
    public static final String SINGLE = "model.safetensors";
    /** The index file of a sharded checkpoint. */
    public static final String INDEX = "model.safetensors.index.json";

    private final String description;
    private final List<Safetensors.Reader> readers;
    private final Map<String, Safetensors.Reader> byKey;

    private SafetensorsCheckpoint(
            String description, List<Safetensors.Reader> readers, Map<String, Safetensors.Reader> byKey) {
        this.description = description;
        this.readers = readers;
        this.byKey = byKey;
    }

    /**
     * Opens a checkpoint: a {@code .safetensors} file, an index json, or a model folder holding either
     * ({@code model.safetensors} wins when both exist, as in transformers).
     *
     * @param path file or folder
     * @return the open checkpoint (close it)
     * @throws IOException if a file is missing or unreadable
     */
    public static SafetensorsCheckpoint open(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            if (Files.isRegularFile(path.resolve(SINGLE))) {
                return open(path.resolve(SINGLE));
            }
            if (Files.isRegularFile(path.resolve(INDEX))) {
                return open(path.resolve(INDEX));
            }
            throw new NoSuchFileException(
                    path.toString(), null, "no " + SINGLE + " or " + INDEX + " in the model folder");
        }
        if (path.getFileName().toString().endsWith(".json")) {
            return openIndex(path);
        }
        Safetensors.Reader r = Safetensors.open(path);
        Map<String, Safetensors.Reader> byKey = new LinkedHashMap<>();
        r.tensors().keySet().forEach(k -> byKey.put(k, r));
        return new SafetensorsCheckpoint(path.toString(), List.of(r), byKey);
    }

    private static SafetensorsCheckpoint openIndex(Path index) throws IOException {
        JsonObject map;
        try {
            JsonElement root = JsonParser.parseString(Files.readString(index));
            map = root.getAsJsonObject().getAsJsonObject("weight_map");
        } catch (JsonParseException | IllegalStateException | ClassCastException e) {
            throw new IOException(index + ": not a valid safetensors index (" + e.getMessage() + ")", e);
        }
        if (map == null) {
            throw new IOException(index + ": no \"weight_map\" object (key -> shard file)");
        }
        Path dir = index.toAbsolutePath().getParent();
        Map<String, Safetensors.Reader> files = new LinkedHashMap<>();
        Map<String, Safetensors.Reader> byKey = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, JsonElement> e : map.entrySet()) {
                String shard = e.getValue().getAsString();
                Safetensors.Reader r = files.get(shard);
                if (r == null) {
                    Path p = dir.resolve(shard);
                    if (!Files.isRegularFile(p)) {
                        throw new NoSuchFileException(
                                p.toString(),
                                null,
                                "shard listed in " + index + " for '" + e.getKey() + "' is missing");
                    }
                    r = Safetensors.open(p);
                    files.put(shard, r);
                }
                if (!r.tensors().containsKey(e.getKey())) {
                    throw new IOException(
                            index + " maps '" + e.getKey() + "' to " + shard + " but that shard has no such tensor");
                }
                byKey.put(e.getKey(), r);
            }
        } catch (IOException | RuntimeException e) {
            for (Safetensors.Reader r : files.values()) {
                r.close();
            }
            throw e;
        }
        return new SafetensorsCheckpoint(
                index + " (" + files.size() + " shards)", new ArrayList<>(files.values()), byKey);
    }

    /** {@inheritDoc} */
    @Override
    public Set<String> keys() {
        return Collections.unmodifiableSet(new LinkedHashSet<>(byKey.keySet()));
    }

    /** {@inheritDoc} */
    @Override
    public Shape shape(String key) {
        return reader(key).info(key).shape();
    }

    /** {@inheritDoc} */
    @Override
    public NDArray load(NDManager manager, String key) throws IOException {
        return reader(key).read(manager, key);
    }

    private Safetensors.Reader reader(String key) {
        Safetensors.Reader r = byKey.get(key);
        if (r == null) {
            throw new IllegalArgumentException(description + " has no tensor '" + key + "'");
        }
        return r;
    }

    /** {@inheritDoc} */
    @Override
    public String describe() {
        return description;
    }

    /** {@inheritDoc} */
    @Override
    public void close() throws IOException {
        IOException first = null;
        for (Safetensors.Reader r : readers) {
            try {
                r.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
