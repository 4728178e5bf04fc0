package dev.delora.djl.hf;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import dev.delora.djl.io.AtomicFiles;
import dev.delora.djl.io.SafetensorsCheckpoint;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Resolves a Hugging Face model id ({@code org/name}) to a local model folder in the standard hub cache layout
 * ({@code <cache>/models--org--name/snapshots/<commit>/}, {@code refs/<revision>} holding the commit), downloading
 * {@code config.json}, the tokenizer files and {@code model.safetensors} (or the index and its shards) when online.
 * The cache is {@code $HF_HUB_CACHE}, else {@code $HF_HOME/hub}, else {@code ~/.cache/huggingface/hub}, so folders
 * written by Python's {@code huggingface_hub} are found too. Offline ({@code ai.djl.offline=true} or
 * {@code HF_HUB_OFFLINE=1}) only the cache is used, and a missing file is an error naming the repo, each file looked
 * for and the cache directory.
 */
public final class HfHub {

    /** The files a model folder needs (weights: one of the two safetensors forms). */
    public static final List<String> REQUIRED = List.of("config.json", "tokenizer.json");

    /** Files fetched when the repository has them: the chat template, special tokens, generation defaults. */
    public static final List<String> OPTIONAL = List.of(
            "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja", "generation_config.json");

    private static final Pattern REPO_ID = Pattern.compile("[\\w.-]+(/[\\w.-]+)?");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    private final Path cacheDir;
    private final boolean offline;
    private final String endpoint;

    /**
     * Creates a hub client.
     *
     * @param cacheDir the hub cache directory (the folder holding {@code models--*})
     * @param offline true to use only the cache
     * @param endpoint the hub URL, e.g. {@code https://huggingface.co}
     */
    public HfHub(Path cacheDir, boolean offline, String endpoint) {
        this.cacheDir = cacheDir;
        this.offline = offline;
        this.endpoint = endpoint.endsWith("/") ? endpoint.substring(0, endpoint.length() - 1) : endpoint;
    }

    /**
     * Creates a hub client from the environment: cache from {@code HF_HUB_CACHE}/{@code HF_HOME}, offline when
     * {@code ai.djl.offline=true} or {@code HF_HUB_OFFLINE=1}, endpoint from {@code HF_ENDPOINT}.
     *
     * @return the client
     */
    public static HfHub fromEnvironment() {
        String off = System.getenv("HF_HUB_OFFLINE");
        boolean offline = Boolean.getBoolean("ai.djl.offline") || "1".equals(off) || "true".equalsIgnoreCase(off);
        String ep = System.getenv("HF_ENDPOINT");
        return new HfHub(defaultCacheDir(System.getenv()), offline, ep != null ? ep : "https://huggingface.co");
    }

    /**
     * Returns the hub cache directory for an environment.
     *
     * @param env environment variables
     * @return {@code HF_HUB_CACHE}, else {@code HF_HOME/hub}, else {@code ~/.cache/huggingface/hub}
     */
    public static Path defaultCacheDir(Map<String, String> env) {
        if (env.get("HF_HUB_CACHE") != null) {
            return Path.of(env.get("HF_HUB_CACHE"));
        }
        if (env.get("HF_HOME") != null) {
            return Path.of(env.get("HF_HOME"), "hub");
        }
        return Path.of(System.getProperty("user.home"), ".cache", "huggingface", "hub");
    }

    /**
     * Returns the cache folder of a repository.
     *
     * @param repoId e.g. {@code FacebookAI/roberta-base}
     * @return {@code <cache>/models--FacebookAI--roberta-base}
     */
    public Path repoDir(String repoId) {
        if (!REPO_ID.matcher(repoId).matches()) {
            throw new IllegalArgumentException("'" + repoId + "' is not a Hugging Face model id (org/name)");
        }
        return cacheDir.resolve("models--" + repoId.replace("/", "--"));
    }

    /**
     * Returns a local model folder for a repository revision, downloading missing files when online.
     *
     * @param repoId e.g. {@code google-bert/bert-base-uncased}
     * @param revision a branch, tag or commit ({@code main} usually)
     * @return the snapshot folder holding config.json, tokenizer.json and the safetensors weights
     * @throws IOException if the files are neither cached nor downloadable
     */
    public Path snapshot(String repoId, String revision) throws IOException {
        Path repo = repoDir(repoId);
        Path cached = cachedSnapshot(repo, revision);
        List<String> absent = cached == null ? expectedFiles() : missingFiles(cached);
        if (absent.isEmpty()) {
            return cached;
        }
        if (offline) {
            throw notFound(repoId, revision, repo, cached, absent, "offline mode (ai.djl.offline / HF_HUB_OFFLINE)");
        }
        try {
            return download(repoId, revision, repo);
        } catch (IOException e) {
            HfHubException ex = notFound(
                    repoId, revision, repo, cached, absent, "download from " + endpoint + " failed: " + e.getMessage());
            ex.addSuppressed(e);
            throw ex;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while downloading " + repoId, e);
        }
    }

    private static List<String> expectedFiles() {
        List<String> l = new ArrayList<>(REQUIRED);
        l.add(SafetensorsCheckpoint.SINGLE + " (or " + SafetensorsCheckpoint.INDEX + " + shards)");
        return l;
    }

    private static Path cachedSnapshot(Path repo, String revision) throws IOException {
        Path ref = repo.resolve("refs").resolve(revision);
        String commit = null;
        if (Files.isRegularFile(ref)) {
            commit = Files.readString(ref).trim();
        } else if (COMMIT.matcher(revision).matches()) {
            commit = revision;
        }
        if (commit == null) {
            return null;
        }
        Path snap = repo.resolve("snapshots").resolve(commit);
        return Files.isDirectory(snap) ? snap : null;
    }

    /**
     * Lists the files a model folder lacks.
     *
     * @param folder the folder
     * @return missing file names (empty when complete)
     * @throws IOException if an index cannot be read
     */
    static List<String> missingFiles(Path folder) throws IOException {
        List<String> missing = new ArrayList<>();
        for (String f : REQUIRED) {
            if (!Files.isRegularFile(folder.resolve(f))) {
                missing.add(f);
            }
        }
        if (Files.isRegularFile(folder.resolve(SafetensorsCheckpoint.SINGLE))) {
            return missing;
        }
        Path index = folder.resolve(SafetensorsCheckpoint.INDEX);
        if (!Files.isRegularFile(index)) {
            missing.add(SafetensorsCheckpoint.SINGLE + " (or " + SafetensorsCheckpoint.INDEX + " + shards)");
            return missing;
        }
        for (String shard : shards(index)) {
            if (!Files.isRegularFile(folder.resolve(shard))) {
                missing.add(shard);
            }
        }
        return missing;
    }

    /** The shard files an index names, each checked to be a plain file name in the index's folder. */
    private static Set<String> shards(Path index) throws IOException {
        return new LinkedHashSet<>(SafetensorsCheckpoint.weightMap(index).values());
    }

    private HfHubException notFound(
            String repoId, String revision, Path repo, Path snapshot, List<String> absent, String why) {
        return new HfHubException("Model '" + repoId + "' (revision '" + revision + "') is not available: " + why
                + ". Looked for " + absent + " in "
                + (snapshot != null ? snapshot : repo.resolve("snapshots").resolve("<commit of refs/" + revision + ">"))
                + " (hub cache " + cacheDir + "; set HF_HUB_CACHE or "
                + "HF_HOME to use another cache, or download the files with `huggingface-cli download " + repoId
                + "`).");
    }

    private Path download(String repoId, String revision, Path repo) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NORMAL)
                .connectTimeout(Duration.ofSeconds(20))
                .build();
        String commit = commitOf(http, repoId, revision);
        Path snap = repo.resolve("snapshots").resolve(commit);
        Files.createDirectories(snap);
        for (String f : REQUIRED) {
            fetch(http, repoId, commit, f, snap, true);
        }
        for (String optional : OPTIONAL) {
            fetch(http, repoId, commit, optional, snap, false);
        }
        if (!fetch(http, repoId, commit, SafetensorsCheckpoint.SINGLE, snap, false)) {
            fetch(http, repoId, commit, SafetensorsCheckpoint.INDEX, snap, true);
            for (String shard : shards(snap.resolve(SafetensorsCheckpoint.INDEX))) {
                fetch(http, repoId, commit, shard, snap, true);
            }
        }
        Path refs = repo.resolve("refs");
        Files.createDirectories(refs);
        if (!COMMIT.matcher(revision).matches()) {
            AtomicFiles.writeString(refs.resolve(revision), commit);
        }
        return snap;
    }

    private String commitOf(HttpClient http, String repoId, String revision) throws IOException, InterruptedException {
        if (COMMIT.matcher(revision).matches()) {
            return revision;
        }
        HttpRequest req = request(URI.create(endpoint + "/api/models/" + repoId + "/revision/" + revision))
                .build();
        HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("HTTP " + r.statusCode() + " for " + req.uri());
        }
        JsonElement sha = JsonParser.parseString(r.body()).getAsJsonObject().get("sha");
        if (sha == null || !COMMIT.matcher(sha.getAsString()).matches()) {
            throw new IOException("no commit sha in the answer of " + req.uri());
        }
        return sha.getAsString();
    }

    private boolean fetch(HttpClient http, String repoId, String commit, String file, Path snap, boolean required)
            throws IOException, InterruptedException {
        Path dest = snap.resolve(file);
        if (Files.isRegularFile(dest)) {
            return true;
        }
        URI uri = URI.create(endpoint + "/" + repoId + "/resolve/" + commit + "/" + file);
        HttpResponse<InputStream> r = http.send(request(uri).build(), HttpResponse.BodyHandlers.ofInputStream());
        try (InputStream in = r.body()) {
            if (r.statusCode() == 404 && !required) {
                return false;
            }
            if (r.statusCode() != 200) {
                throw new IOException("HTTP " + r.statusCode() + " for " + uri);
            }
            AtomicFiles.write(dest, in::transferTo);
        }
        return true;
    }

    private static HttpRequest.Builder request(URI uri) {
        HttpRequest.Builder b =
                HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(30)).header("User-Agent", "delora4j");
        String token = System.getenv("HF_TOKEN");
        if (token != null && !token.isBlank()) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    /** A model that is neither cached nor downloadable; the message names the repo, the files and the cache. */
    public static final class HfHubException extends IOException {
        private static final long serialVersionUID = 1L;

        /**
         * Creates the exception.
         *
         * @param message the explanation
         */
        public HfHubException(String message) {
            super(message);
        }
    }
}
