package dev.delora.djl.persist;

import ai.djl.ndarray.NDArray;
import dev.delora.djl.io.AtomicFiles;
import dev.delora.djl.io.Safetensors;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The two files of an adapter folder, replaced together so that a reader sees the old adapter or the new one, never
 * a mix (a killed save used to leave new weights next to the old config, which loads at the wrong scaling).
 *
 * <p>A save writes the new config as {@code .adapter_config.json.pending}, then the weights (whose
 * {@code __metadata__} records the SHA-256 of that config under {@value #CONFIG_HASH}), then renames the pending
 * config over {@code adapter_config.json}; every file is written to a temp file, forced to disk and renamed
 * atomically. A reader takes the config whose hash the weights record: {@code adapter_config.json}, or the pending
 * one when a save was killed between its two renames (it rolls forward). The next save finishes or discards what an
 * interrupted one left. Folders written by PEFT carry no hash and are read as they are. Saves into one folder are
 * serialised within the JVM.
 */
final class AdapterFolderFiles {

    /** The {@code __metadata__} key of the config's SHA-256 in the weights file. */
    static final String CONFIG_HASH = "delora4j.adapter_config_sha256";

    /**
     * The {@code __metadata__} key naming the library that wrote the folder ({@code delora4j} and its version when the
     * jar's manifest has one). Not in {@code adapter_config.json}: PEFT warns about unknown config keys as written by
     * "a higher version of the library", and parses {@code peft_version} as a PEFT version.
     */
    static final String WRITER = "delora4j.writer";

    private static final String PENDING = "." + PeftAdapters.CONFIG_FILE + ".pending";
    private static final Map<Path, Object> LOCKS = new ConcurrentHashMap<>();

    private AdapterFolderFiles() {}

    /**
     * Replaces a folder's adapter files.
     *
     * @param dir the adapter folder (created if needed)
     * @param configText the new {@code adapter_config.json}
     * @param tensors the new weights by key
     * @throws IOException if writing fails (the folder then holds the old adapter, or the new one)
     */
    static void write(Path dir, String configText, Map<String, NDArray> tensors) throws IOException {
        Files.createDirectories(dir);
        synchronized (lock(dir)) {
            recover(dir);
            Path pending = dir.resolve(PENDING);
            AtomicFiles.writeString(pending, configText);
            Map<String, String> meta = new LinkedHashMap<>();
            meta.put("format", "pt");
            meta.put(CONFIG_HASH, sha256(configText));
            meta.put(WRITER, writer());
            Safetensors.write(dir.resolve(PeftAdapters.WEIGHTS_FILE), tensors, meta);
            Files.move(
                    pending,
                    dir.resolve(PeftAdapters.CONFIG_FILE),
                    StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /**
     * Returns the config text that belongs to the folder's weights (see the class comment).
     *
     * @param dir the adapter folder
     * @param recordedHash the hash the weights record, or {@code null} for a folder written by PEFT
     * @return the config file to name in errors and its text
     * @throws IOException if no config matches the weights
     */
    static Map.Entry<Path, String> configFor(Path dir, String recordedHash) throws IOException {
        Path config = dir.resolve(PeftAdapters.CONFIG_FILE);
        // the second read of the config covers a save in another process that renamed in between
        for (Path candidate : new Path[] {config, dir.resolve(PENDING), config}) {
            String text;
            try {
                text = Files.readString(candidate, StandardCharsets.UTF_8);
            } catch (NoSuchFileException e) {
                continue;
            }
            if (recordedHash == null || recordedHash.equals(sha256(text))) {
                return Map.entry(candidate, text);
            }
        }
        throw new IllegalArgumentException(dir + ": " + PeftAdapters.WEIGHTS_FILE + " was written for another "
                + PeftAdapters.CONFIG_FILE + " (its " + CONFIG_HASH + " matches no config in the folder): an "
                + "interrupted copy, or files from two saves");
    }

    /** Finishes (rolls forward) or discards what an interrupted save left, and removes its temp files. */
    private static void recover(Path dir) throws IOException {
        Path pending = dir.resolve(PENDING);
        if (Files.exists(pending)) {
            String recorded = null;
            Path weights = dir.resolve(PeftAdapters.WEIGHTS_FILE);
            if (Files.isRegularFile(weights)) {
                try (Safetensors.Reader r = Safetensors.open(weights)) {
                    recorded = r.metadata().get(CONFIG_HASH);
                } catch (RuntimeException e) {
                    recorded = null; // unreadable weights: the pending config cannot be theirs either
                }
            }
            if (recorded != null && recorded.equals(sha256(Files.readString(pending, StandardCharsets.UTF_8)))) {
                Files.move(
                        pending,
                        dir.resolve(PeftAdapters.CONFIG_FILE),
                        StandardCopyOption.ATOMIC_MOVE,
                        StandardCopyOption.REPLACE_EXISTING);
            } else {
                Files.delete(pending);
            }
        }
        // AtomicFiles' temp files of both files and of the pending config
        try (DirectoryStream<Path> leftovers =
                Files.newDirectoryStream(dir, "{.adapter_*.tmp,." + PENDING + ".*.tmp}")) {
            for (Path p : leftovers) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** {@code delora4j}, with the version from the jar's manifest when there is one. */
    static String writer() {
        String version = AdapterFolderFiles.class.getPackage().getImplementationVersion();
        return version == null ? "delora4j" : "delora4j " + version;
    }

    /** The pending config of a folder (present only while, or after an interrupted, save). */
    static Path pending(Path dir) {
        return dir.resolve(PENDING);
    }

    private static Object lock(Path dir) {
        return LOCKS.computeIfAbsent(dir.toAbsolutePath().normalize(), p -> new Object());
    }

    static String sha256(String text) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
