package dev.delora.djl.hf;

import dev.delora.fixtures.Fixtures;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Assembles the tiny Hugging Face model folders of fixture set {@code hf/} in a temp directory, file by file:
 * {@code Fixtures.dir} only works while the fixtures are on the file system, not when the reactor resolves the
 * packaged fixtures jar (as in {@code mvn verify}).
 */
public final class FixtureFolders {

    private static final Map<String, List<String>> FILES = Map.of(
            "tiny-bert", List.of("config.json", "model.safetensors", "tokenizer.json"),
            "tiny-bert-sharded", List.of("config.json", "model.safetensors.index.json",
                    "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"),
            "tiny-bert-bf16", List.of("config.json", "model.safetensors"),
            "tiny-bert-base", List.of("config.json", "model.safetensors"),
            "tiny-roberta", List.of("config.json", "model.safetensors"),
            "tiny-roberta-regression", List.of("config.json", "model.safetensors"));
    private static final Map<String, Path> CACHE = new ConcurrentHashMap<>();

    private FixtureFolders() {}

    /**
     * Returns a folder holding the files of a fixture model folder.
     *
     * @param name e.g. {@code tiny-bert}
     * @return a directory (shared by the tests of one JVM; do not modify it)
     */
    public static Path hf(String name) {
        List<String> files = FILES.get(name);
        if (files == null) {
            throw new IllegalArgumentException("unknown fixture folder '" + name + "'; known: " + FILES.keySet());
        }
        return CACHE.computeIfAbsent(name, n -> {
            try {
                Path dir = Files.createTempDirectory("delora-" + n);
                dir.toFile().deleteOnExit();
                for (String f : files) {
                    Path out = dir.resolve(f);
                    Files.copy(Fixtures.path("hf/" + n + "/" + f), out, StandardCopyOption.REPLACE_EXISTING);
                    out.toFile().deleteOnExit();
                }
                return dir;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }
}
