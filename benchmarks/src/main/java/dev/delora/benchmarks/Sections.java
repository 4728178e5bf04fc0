package dev.delora.benchmarks;

import com.google.gson.JsonObject;
import dev.delora.djl.io.Rss;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.djl.peft.UpdateNorms;
import java.util.Locale;

/**
 * The measurements, one per {@code --child} section, each run in the JVM that calls it (a fresh child JVM unless
 * {@code --no-fork}): section 1 (the adapted Linear, every method in turn), sections 2 and 3 (one method at one batch
 * size: training step, peak memory, inference unmerged and merged, merge time) and the resident-memory trace. Each
 * returns its numbers in {@code bench_peft.py}'s JSON schema.
 */
final class Sections {

    private Sections() {}

    /**
     * Runs the section {@code o.child} names.
     *
     * @param o the options, {@code child} set
     * @return the measurements
     * @throws Exception if a configuration fails
     */
    static JsonObject run(BenchmarkMain o) throws Exception {
        return switch (o.child) {
            case LAYER -> layer(o);
            case TRAIN -> train(o);
            case SOAK -> soak(o);
        };
    }

    private static JsonObject layer(BenchmarkMain o) throws Exception {
        JsonObject out = new JsonObject();
        for (MethodSpec m : BenchmarkMain.withBase(o.methods)) {
            try (LayerCase c = LayerCase.create(m, 32, 128, 768, o.rank)) {
                double ms = Timing.medianMs(3 + o.warmup, o.layerIterations, c::step);
                JsonObject r = new JsonObject();
                r.addProperty("median_ms", ms);
                out.add(m.label(), r);
                System.err.printf(Locale.ROOT, "[bench]   %-13s %8.2f ms%n", m.label(), ms);
            }
        }
        return out;
    }

    private static JsonObject train(BenchmarkMain o) throws Exception {
        JsonObject r = new JsonObject();
        try (EncoderCase c = EncoderCase.create(o.method, o.layers, o.rank, o.batch, o.seq)) {
            r.addProperty("trainable_params", c.trainableParameters());
            double step = Timing.medianMs(o.warmup, o.trainIterations, c::trainStep);
            r.addProperty("step_ms", step);
            r.addProperty("samples_per_s", o.batch * 1000.0 / step);
            r.addProperty("peak_rss_mb", Rss.peakMb());
            double infer = Timing.medianMs(o.warmup, o.inferIterations, c::inferStep);
            if (c.peft() == null) {
                r.addProperty("infer_ms", infer);
            } else {
                r.addProperty("infer_unmerged_ms", infer);
                // ‖W_eff − W‖_F of every module, as UpdateNormLog records it during training
                r.addProperty(
                        "update_norms_ms",
                        Timing.medianMs(
                                1,
                                o.mergeIterations,
                                () -> UpdateNorms.of(c.peft(), AdaptedModel.DEFAULT_ADAPTER, p -> true)));
                merge(o, c, r);
            }
            r.addProperty("peak_rss_end_mb", Rss.peakMb());
        }
        System.err.println("[bench]   " + r);
        return r;
    }

    /** Times merge (unmerging in between), then inference merged. */
    private static void merge(BenchmarkMain o, EncoderCase c, JsonObject r) throws Exception {
        try {
            double[] merge = new double[o.mergeIterations];
            for (int i = 0; i < merge.length; i++) {
                long t0 = System.nanoTime();
                c.peft().merge();
                merge[i] = (System.nanoTime() - t0) / 1e6;
                c.peft().unmerge();
            }
            r.addProperty("merge_ms", Timing.median(merge));
            c.peft().merge();
            r.addProperty("infer_merged_ms", Timing.medianMs(o.warmup, o.inferIterations, c::inferStep));
        } catch (IllegalStateException e) {
            // a refused merge is a finding to report, not a reason to lose the other numbers
            r.addProperty("merge_error", e.getMessage());
            System.err.println("[bench]   merge failed: " + e.getMessage());
        }
    }

    private static JsonObject soak(BenchmarkMain o) {
        JsonObject r = new JsonObject();
        r.addProperty("method", o.soakMethod.label());
        r.addProperty("layers", o.soakLayers);
        r.addProperty("batch", o.soakBatch);
        r.addProperty("seq", o.soakSeq);
        JsonObject rss = new JsonObject();
        JsonObject heap = new JsonObject();
        long t0 = System.nanoTime();
        try (EncoderCase c = EncoderCase.create(o.soakMethod, o.soakLayers, o.rank, o.soakBatch, o.soakSeq)) {
            for (int step = 1; step <= o.soakSteps; step++) {
                c.trainStep();
                if (step == 1 || step == 10 || step % 100 == 0 || step == o.soakSteps) {
                    rss.addProperty(Integer.toString(step), Rss.currentMb());
                    // the Java heap is part of RSS; what it has committed is not native (libtorch) memory
                    double committed = Runtime.getRuntime().totalMemory() / (1024.0 * 1024);
                    heap.addProperty(Integer.toString(step), committed);
                    if (step % 100 == 0) {
                        System.err.printf(
                                Locale.ROOT,
                                "[bench]   step %d: RSS %.1f MiB (Java heap committed %.1f)%n",
                                step,
                                Rss.currentMb(),
                                committed);
                    }
                }
            }
        }
        r.add("rss_mb", rss);
        r.add("java_heap_committed_mb", heap);
        r.addProperty("seconds", (System.nanoTime() - t0) / 1e9);
        return r;
    }
}
