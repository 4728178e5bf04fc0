package dev.delora.djl.hf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.delora.fixtures.Fixtures;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The hub cache layout, offline only (no network in tests). */
class HfHubTest {

    private static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

    @Test
    void cacheDirFollowsHfEnvironmentVariables() {
        assertEquals(Path.of("/x/cache"), HfHub.defaultCacheDir(Map.of("HF_HUB_CACHE", "/x/cache", "HF_HOME", "/y")));
        assertEquals(Path.of("/y", "hub"), HfHub.defaultCacheDir(Map.of("HF_HOME", "/y")));
        assertEquals(
                Path.of(System.getProperty("user.home"), ".cache", "huggingface", "hub"),
                HfHub.defaultCacheDir(Map.of()));
    }

    @Test
    void resolvesACachedSnapshotThroughRefs(@TempDir Path cache) throws Exception {
        Path repo = cache.resolve("models--acme--tiny-bert");
        Path snap = repo.resolve("snapshots").resolve(COMMIT);
        Files.createDirectories(snap);
        Files.createDirectories(repo.resolve("refs"));
        Files.writeString(repo.resolve("refs/main"), COMMIT + "\n");
        Path src = Fixtures.dir("hf/tiny-bert-sharded");
        try (var files = Files.list(src)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.copy(f, snap.resolve(f.getFileName()));
            }
        }
        Files.copy(Fixtures.path("hf/tokenizer/tokenizer.json"), snap.resolve("tokenizer.json"));
        HfHub hub = new HfHub(cache, true, "https://huggingface.co");
        assertEquals(snap, hub.snapshot("acme/tiny-bert", "main"));
        assertEquals(snap, hub.snapshot("acme/tiny-bert", COMMIT));
        try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager()) {
            var loaded = HfModels.sequenceClassifier(hub.snapshot("acme/tiny-bert", "main"), m, null);
            assertTrue(loaded.report().missingKeys().isEmpty());
        }
    }

    @Test
    void offlineErrorNamesRepoFilesAndCache(@TempDir Path cache) throws Exception {
        HfHub hub = new HfHub(cache, true, "https://huggingface.co");
        HfHub.HfHubException e =
                assertThrows(HfHub.HfHubException.class, () -> hub.snapshot("acme/absent-model", "main"));
        String msg = e.getMessage();
        for (String part : new String[] {
            "acme/absent-model",
            "config.json",
            "tokenizer.json",
            "model.safetensors",
            "model.safetensors.index.json",
            cache.toString(),
            "offline"
        }) {
            assertTrue(msg.contains(part), "message lacks '" + part + "': " + msg);
        }
        // a snapshot whose index lists a shard that is not there
        Path snap = cache.resolve("models--acme--half/snapshots/" + COMMIT);
        Files.createDirectories(snap);
        Files.createDirectories(cache.resolve("models--acme--half/refs"));
        Files.writeString(cache.resolve("models--acme--half/refs/main"), COMMIT);
        Path src = Fixtures.dir("hf/tiny-bert-sharded");
        Files.copy(src.resolve("config.json"), snap.resolve("config.json"));
        Files.copy(src.resolve("model.safetensors.index.json"), snap.resolve("model.safetensors.index.json"));
        Files.copy(src.resolve("model-00001-of-00002.safetensors"), snap.resolve("model-00001-of-00002.safetensors"));
        String msg2 = assertThrows(HfHub.HfHubException.class, () -> hub.snapshot("acme/half", "main"))
                .getMessage();
        assertTrue(
                msg2.contains("model-00002-of-00002.safetensors")
                        && msg2.contains("tokenizer.json")
                        && msg2.contains(snap.toString()),
                msg2);
        assertThrows(IllegalArgumentException.class, () -> hub.snapshot("not a repo id", "main"));
    }

    @Test
    void anIndexCannotNameShardsOutsideItsFolder(@TempDir Path folder) throws Exception {
        java.nio.file.Files.writeString(folder.resolve("config.json"), "{}");
        java.nio.file.Files.writeString(folder.resolve("tokenizer.json"), "{}");
        java.nio.file.Files.writeString(
                folder.resolve(dev.delora.djl.io.SafetensorsCheckpoint.INDEX),
                "{\"weight_map\": {\"a\": \"../../../../tmp/pwned\"}}");
        java.io.IOException e = org.junit.jupiter.api.Assertions.assertThrows(
                java.io.IOException.class, () -> HfHub.missingFiles(folder));
        assertTrue(e.getMessage().contains("pwned") || e.getMessage().contains(".."), e.getMessage());
    }
}
