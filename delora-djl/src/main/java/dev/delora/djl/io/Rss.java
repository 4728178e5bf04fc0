package dev.delora.djl.io;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Resident memory of this process from {@code /proc/self/status}, the same source the PEFT comparison scripts read, so
 * both sides count Java heap, JIT, libtorch and tensors alike (everything the kernel holds for the process).
 */
public final class Rss {

    private Rss() {}

    /**
     * Returns the peak resident set size ({@code VmHWM}).
     *
     * @return megabytes (MiB)
     */
    public static double peakMb() {
        return read("VmHWM:");
    }

    /**
     * Returns the current resident set size ({@code VmRSS}).
     *
     * @return megabytes (MiB)
     */
    public static double currentMb() {
        return read("VmRSS:");
    }

    private static double read(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field)) {
                    String[] parts = line.substring(field.length()).trim().split("\\s+");
                    return Long.parseLong(parts[0]) / 1024.0; // the kernel reports kB
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read /proc/self/status (Linux only)", e);
        }
        throw new IllegalStateException("/proc/self/status has no " + field + " line");
    }
}
