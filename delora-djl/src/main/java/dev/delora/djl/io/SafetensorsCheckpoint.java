package dev.delora.djl.io;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
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
 * {@code model.safetensors.index.json} ({@code weight_map}: key to shard file). Every file is validated as
 * {@link Safetensors} describes; every shard must be a plain file name in the index's folder ({@link #weightMap}).
 */
public final class SafetensorsCheckpoint implements TensorSource {

    /** The single-file checkpoint name transformers writes. */
    public static final String SINGLE = "model.safetensors";
    /** The index file of a sharded checkpoint. */
    public static final String INDEX = "model.safetensors.index.json";
    /** Largest index read (100 MB, as the largest safetensors header). */
    private static final long MAX_INDEX = 100_000_000L;

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

    /**
     * Reads the {@code weight_map} of an index (strict JSON) and checks every shard name: a shard must be a plain file
     * name in the index's folder, never an absolute path, a path with a separator or {@code ..}, or anything that
     * resolves outside the folder, so an index cannot make a reader (or a downloader) touch other files.
     *
     * @param index a {@code model.safetensors.index.json}
     * @return key to shard file name, in file order
     * @throws IOException if the index cannot be read, is not a valid index, or names a shard outside its folder (the
     *     message names the index file and the entry)
     */
    public static Map<String, String> weightMap(Path index) throws IOException {
        if (Files.size(index) > MAX_INDEX) {
            throw new IOException(
                    index + ": an index of " + Files.size(index) + " bytes; expected at most " + MAX_INDEX);
        }
        JsonElement map;
        try {
            JsonElement root = SafetensorsHeader.parseStrict(Files.readString(index, StandardCharsets.UTF_8));
            map = root.isJsonObject() ? root.getAsJsonObject().get("weight_map") : null;
        } catch (JsonParseException | CharacterCodingException e) {
            throw new IOException(index + ": not a valid safetensors index (" + e.getMessage() + ")", e);
        }
        if (map == null || !map.isJsonObject()) {
            throw new IOException(index + ": no \"weight_map\" object (key -> shard file)");
        }
        Path dir = index.toAbsolutePath().normalize().getParent();
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : map.getAsJsonObject().entrySet()) {
            String entry = index + ": weight_map entry '" + SafetensorsHeader.cut(e.getKey()) + "'";
            JsonElement v = e.getValue();
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
                throw new IOException(entry + " is not a string; expected the file name of a shard");
            }
            out.put(e.getKey(), checkShard(entry, dir, v.getAsString()));
        }
        return out;
    }

    private static String checkShard(String entry, Path dir, String shard) throws IOException {
        String why = null;
        if (shard.isEmpty() || shard.equals(".") || shard.equals("..")) {
            why = "is not a file name";
        } else if (shard.indexOf('/') >= 0 || shard.indexOf('\\') >= 0) {
            why = "is a path, not a file name";
        } else if (shard.length() > 255) {
            why = "is longer than a file name can be";
        } else {
            try {
                Path p = Path.of(shard);
                if (p.isAbsolute() || !dir.equals(dir.resolve(p).normalize().getParent())) {
                    why = "resolves outside the index's folder";
                }
            } catch (InvalidPathException e) {
                why = "is not a valid file name";
            }
        }
        if (why != null) {
            throw new IOException(entry + " names the shard \"" + SafetensorsHeader.cut(shard) + "\", which " + why
                    + "; expected the name of a file in " + dir);
        }
        return shard;
    }

    private static SafetensorsCheckpoint openIndex(Path index) throws IOException {
        Map<String, String> map = weightMap(index);
        Path dir = index.toAbsolutePath().normalize().getParent();
        Map<String, Safetensors.Reader> files = new LinkedHashMap<>();
        Map<String, Safetensors.Reader> byKey = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, String> e : map.entrySet()) {
                String shard = e.getValue();
                String key = SafetensorsHeader.cut(e.getKey());
                Safetensors.Reader r = files.get(shard);
                if (r == null) {
                    Path p = dir.resolve(shard);
                    if (!Files.isRegularFile(p)) {
                        throw new NoSuchFileException(
                                p.toString(), null, "shard listed in " + index + " for '" + key + "' is missing");
                    }
                    r = Safetensors.open(p);
                    files.put(shard, r);
                }
                if (!r.tensors().containsKey(e.getKey())) {
                    throw new IOException(
                            index + " maps '" + key + "' to " + shard + " but that shard has no such tensor");
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
            throw new IllegalArgumentException(description + " has no tensor '" + SafetensorsHeader.cut(key) + "'");
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
