package dev.delora.djl.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Writes files so that a reader sees either the old file or the complete new one, never a half-written checkpoint:
 * the content goes to a hidden temp file in the same folder, is flushed to disk, then moved over the target in one
 * atomic rename. On failure the temp file is removed and the target is untouched.
 */
public final class AtomicFiles {

    /** Produces a file's content. */
    @FunctionalInterface
    public interface Content {
        /**
         * Writes the content.
         *
         * @param out the stream to write to (buffered; do not close it)
         * @throws IOException if writing fails
         */
        void writeTo(OutputStream out) throws IOException;
    }

    /** Produces a folder's content. */
    @FunctionalInterface
    public interface FolderContent {
        /**
         * Writes the content.
         *
         * @param dir the (new, empty) folder to write into
         * @throws IOException if writing fails
         */
        void writeInto(Path dir) throws IOException;
    }

    private AtomicFiles() {}

    /**
     * Writes a file atomically, creating its folder if needed.
     *
     * @param file the target
     * @param content the content
     * @throws IOException if writing or the rename fails
     */
    public static void write(Path file, Content content) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        // not Files.createTempFile: that makes the file owner-only (0600), and the rename would keep it so
        Path tmp = dir.resolve("." + file.getFileName() + "." + UUID.randomUUID() + ".tmp");
        try {
            try (OutputStream out = new BufferedOutputStream(
                    Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), 1 << 20)) {
                content.writeTo(out);
            }
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Writes UTF-8 text atomically.
     *
     * @param file the target
     * @param text the text
     * @throws IOException if writing fails
     */
    public static void writeString(Path file, String text) throws IOException {
        write(file, out -> out.write(text.getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * Checks that a folder may be replaced as a whole by a model folder ({@link #writeFolder}): it does not exist, is
     * empty, or is a model folder (holds {@code config.json}), so that a mistyped path never replaces unrelated files.
     *
     * @param dir the target folder
     * @param action what replaces it, for the message (e.g. {@code "export"})
     * @throws IOException if the folder cannot be listed
     * @throws IllegalArgumentException naming the folder if it is a file or a non-empty folder without config.json
     */
    public static void requireReplaceableModelFolder(Path dir, String action) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalArgumentException(dir + " exists and is not a folder");
        }
        boolean empty;
        try (Stream<Path> s = Files.list(dir)) {
            empty = s.findAny().isEmpty();
        }
        if (!empty && !Files.isRegularFile(dir.resolve("config.json"))) {
            throw new IllegalArgumentException(dir + " is not empty and holds no config.json; the " + action
                    + " replaces the folder as a whole, so it must be empty or a model folder");
        }
    }

    /**
     * Writes a whole folder so that a reader sees the old folder or the complete new one: the content goes to a
     * hidden temp folder beside the target, every file in it is flushed to disk, then it is renamed onto the target.
     * An existing target is first renamed aside to a hidden {@code .<name>.<uuid>.old} folder, deleted once the new
     * folder is in place (a crash between these two renames leaves the old content there). On failure the temp
     * folder is removed and the target is untouched.
     *
     * @param dir the target folder (replaced as a whole)
     * @param content the content
     * @throws IOException if writing or a rename fails
     */
    public static void writeFolder(Path dir, FolderContent content) throws IOException {
        Path target = dir.toAbsolutePath().normalize();
        Path parent = target.getParent();
        Files.createDirectories(parent);
        String id = UUID.randomUUID().toString();
        Path tmp = parent.resolve("." + target.getFileName() + "." + id + ".tmp");
        Path old = parent.resolve("." + target.getFileName() + "." + id + ".old");
        try {
            Files.createDirectory(tmp);
            content.writeInto(tmp);
            try (Stream<Path> files = Files.walk(tmp)) {
                for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)::iterator) {
                    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                        ch.force(true);
                    }
                }
            }
            boolean replacing = Files.exists(target, LinkOption.NOFOLLOW_LINKS);
            if (replacing) {
                Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException | RuntimeException e) {
                if (replacing) {
                    Files.move(old, target, StandardCopyOption.ATOMIC_MOVE);
                }
                throw e;
            }
            if (replacing) {
                deleteTree(old);
            }
        } finally {
            if (Files.exists(tmp, LinkOption.NOFOLLOW_LINKS)) {
                deleteTree(tmp);
            }
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
