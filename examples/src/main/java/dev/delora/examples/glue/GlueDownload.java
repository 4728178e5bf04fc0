package dev.delora.examples.glue;

import dev.delora.djl.io.AtomicFiles;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

/**
 * Fetches a GLUE task in its original TSV layout into a local cache, from the addresses of GLUE's own
 * {@code download_glue_data.py}: a zip per task, and for MRPC the Microsoft paraphrase corpus split into train and dev
 * by GLUE's {@code mrpc_dev_ids.tsv}, exactly as that script does. Offline ({@code ai.djl.offline}), or when a download
 * fails, the error names the addresses and the folder where the files are expected.
 */
public final class GlueDownload {

    /** Where GLUE's download script fetches from. */
    public static final String BASE = "https://dl.fbaipublicfiles.com/";

    private static final Map<GlueTask, String> ZIPS = Map.of(
            GlueTask.COLA, "glue/data/CoLA.zip",
            GlueTask.SST2, "glue/data/SST-2.zip",
            GlueTask.QQP, "glue/data/QQP-clean.zip",
            GlueTask.STSB, "glue/data/STS-B.zip",
            GlueTask.MNLI, "glue/data/MNLI.zip",
            GlueTask.QNLI, "glue/data/QNLIv2.zip",
            GlueTask.RTE, "glue/data/RTE.zip");
    private static final String MRPC_TRAIN = "senteval/senteval_data/msr_paraphrase_train.txt";
    private static final String MRPC_DEV_IDS = "glue/data/mrpc_dev_ids.tsv";

    private final Path cache;
    private final String base;
    private final boolean offline;

    /**
     * Creates a downloader.
     *
     * @param cache the folder holding one sub-folder per task (e.g. {@code ~/.cache/delora4j/glue})
     * @param base the address prefix (tests use a {@code file:} URI)
     * @param offline whether the network may not be used
     */
    public GlueDownload(Path cache, String base, boolean offline) {
        this.cache = cache;
        this.base = base;
        this.offline = offline;
    }

    /**
     * Uses {@code ~/.cache/delora4j/glue}, GLUE's addresses, and {@code ai.djl.offline}.
     *
     * @return the downloader
     */
    public static GlueDownload fromEnvironment() {
        return new GlueDownload(
                Path.of(System.getProperty("user.home"), ".cache", "delora4j", "glue"),
                BASE,
                Boolean.getBoolean("ai.djl.offline"));
    }

    /**
     * Returns the task's folder, downloading it first when its files are not cached.
     *
     * @param task the task
     * @return a folder with the task's train and dev TSVs
     * @throws IOException naming the addresses and the folder when the files are missing and cannot be fetched
     */
    public Path taskDir(GlueTask task) throws IOException {
        Path dir = cache.resolve(task.directoryName());
        Path train = dir.resolve(task.trainFileName());
        Path dev = dir.resolve(task.devFileName());
        if (Files.exists(train) && Files.exists(dev)) {
            return dir;
        }
        String sources =
                task == GlueTask.MRPC ? base + MRPC_TRAIN + " and " + base + MRPC_DEV_IDS : base + ZIPS.get(task);
        if (offline) {
            throw new IOException("GLUE " + task.id() + " is not cached and offline mode is on (ai.djl.offline): "
                    + "expected " + train + " and " + dev + "; download " + sources + " or pass --data-dir");
        }
        try {
            if (task == GlueTask.MRPC) {
                assembleMrpc(dir);
            } else {
                unzip(task, dir);
            }
        } catch (IOException e) {
            throw new IOException(
                    "Could not download GLUE " + task.id() + " from " + sources + " into " + dir + ": " + e.getMessage()
                            + " (or pass --data-dir with the TSV files)",
                    e);
        }
        return dir;
    }

    private InputStream open(String path) throws IOException {
        return URI.create(base + path).toURL().openStream();
    }

    private void unzip(GlueTask task, Path dir) throws IOException {
        Set<String> wanted = Set.of(task.trainFileName(), task.devFileName());
        int written = 0;
        try (ZipInputStream zip = new ZipInputStream(open(ZIPS.get(task)))) {
            for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
                String name = Path.of(e.getName()).getFileName().toString();
                if (!e.isDirectory() && wanted.contains(name)) {
                    byte[] data = zip.readAllBytes();
                    AtomicFiles.write(dir.resolve(name), out -> out.write(data));
                    written++;
                }
            }
        }
        if (written != wanted.size()) {
            throw new IOException("the archive " + ZIPS.get(task) + " lacks " + wanted);
        }
    }

    /** GLUE's split of the MSR paraphrase training file: rows whose id pair is in the dev ids go to dev.tsv. */
    private void assembleMrpc(Path dir) throws IOException {
        Set<String> devIds = new HashSet<>();
        try (InputStream in = open(MRPC_DEV_IDS)) {
            new String(in.readAllBytes(), StandardCharsets.UTF_8)
                    .lines()
                    .map(String::strip)
                    .filter(l -> !l.isEmpty())
                    .forEach(l -> devIds.add(l.replace('\t', ' ')));
        }
        String msr;
        try (InputStream in = open(MRPC_TRAIN)) {
            msr = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        StringBuilder train = new StringBuilder();
        StringBuilder dev = new StringBuilder();
        try (BufferedReader r = new BufferedReader(new StringReader(msr))) {
            String header = r.readLine();
            train.append(header).append('\n');
            dev.append(header).append('\n');
            for (String row; (row = r.readLine()) != null; ) {
                String[] f = row.strip().split("\t");
                if (f.length != 5) {
                    throw new IOException(
                            MRPC_TRAIN + ": expected 5 tab-separated fields, got " + f.length + " in: " + row);
                }
                String line = String.join("\t", f) + '\n';
                (devIds.contains(f[1] + " " + f[2]) ? dev : train).append(line);
            }
        }
        AtomicFiles.writeString(dir.resolve(GlueTask.MRPC.trainFileName()), train.toString());
        AtomicFiles.writeString(dir.resolve(GlueTask.MRPC.devFileName()), dev.toString());
    }
}
