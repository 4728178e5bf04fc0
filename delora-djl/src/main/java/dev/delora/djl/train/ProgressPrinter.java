package dev.delora.djl.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * ProgressPrinter on stderr: one carriage-return line on a terminal, plain lines every N steps otherwise (CI logs).
 */
final class ProgressPrinter {

    private final boolean enabled;
    private final boolean terminal;
    private final int every;
    private final int total;
    private final PrintStream err = System.err;
    private long windowStart = System.nanoTime();
    private int windowSamples;
    private boolean open;

    ProgressPrinter(boolean enabled, int every, int total) {
        this.enabled = enabled;
        this.terminal = System.console() != null;
        this.every = every;
        this.total = total;
    }

    void step(int step, int epoch, double meanLoss, double lr, int samples) {
        if (!enabled) {
            return;
        }
        windowSamples += samples;
        if (!terminal && step % every != 0 && step != total) {
            return;
        }
        long now = System.nanoTime();
        double rate = windowSamples / Math.max(1e-9, (now - windowStart) / 1e9);
        String text = String.format(
                Locale.ROOT,
                "step %d/%d  epoch %d  loss %.4f  lr %.3e  %.1f samples/s",
                step,
                total,
                epoch + 1,
                meanLoss,
                lr,
                rate);
        if (terminal) {
            int width = 30;
            int filled = (int) ((long) width * step / Math.max(1, total));
            err.print("\r[" + "=".repeat(filled) + " ".repeat(width - filled) + "] " + text);
            err.flush();
            open = true;
        } else {
            err.println(text);
        }
        windowStart = now;
        windowSamples = 0;
    }

    void endEpoch() {
        if (enabled && open) {
            err.println();
            open = false;
        }
    }

    void line(String text) {
        if (enabled) {
            endEpoch();
            err.println(text);
        }
    }
}
