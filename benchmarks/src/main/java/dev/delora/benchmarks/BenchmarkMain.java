package dev.delora.benchmarks;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Prints one markdown table: (1) adapted {@code Linear} forward + backward against the plain frozen one, (2) training
 * step throughput and peak resident memory of a RoBERTa-base-shaped classifier for each method and batch size, with
 * inference unmerged vs merged, (3) merge time, and a 1,000-step resident-memory trace; with {@code --peft FILE}
 * (written by {@code src-test-fixtures/parity/bench_peft.py}) also PyTorch + PEFT's numbers and our/PEFT ratios.
 *
 * <p>Each configuration runs in a fresh JVM (this class, re-executed with {@code --child}) so that every peak
 * resident size ({@code VmHWM}) belongs to one configuration; libtorch's thread counts are set explicitly in each.
 * {@code --help} lists the options.
 */
public final class BenchmarkMain {

    private static final String RESULT = "RESULT ";

    private BenchmarkMain() {}

    /** Command-line options; see {@link #usage()}. */
    record Options(int threads, int interopThreads, int warmup, int layerIterations, int trainIterations,
            int inferIterations, int mergeIterations, List<Integer> batches, int seq, int layers, int rank,
            List<Method> methods, Map<Integer, List<Method>> batchMethods, List<String> sections, int soakSteps, int soakLayers, int soakBatch, int soakSeq,
            Method soakMethod, List<Path> peft, Path json, List<Path> results, boolean fork, String child, Method method, int batch) {

        Options {
            if (threads < 1 || interopThreads < 1) {
                throw new IllegalArgumentException("--threads and --interop-threads must be >= 1");
            }
            if (warmup < 0 || layerIterations < 1 || trainIterations < 1 || inferIterations < 1
                    || mergeIterations < 1) {
                throw new IllegalArgumentException("--warmup must be >= 0 and every --*-iterations >= 1");
            }
            for (String s : sections) {
                if (!List.of("layer", "train", "soak").contains(s)) {
                    throw new IllegalArgumentException("unknown section '" + s + "'; expected layer, train, soak");
                }
            }
        }
    }

    static String usage() {
        return String.join("\n",
                "usage: BenchmarkMain [options]",
                "  --peft FILE[,FILE...]    PyTorch + PEFT results from bench_peft.py: adds PEFT and our/PEFT columns (several",
                "                           files, e.g. interleaved rounds: the median of each number)",
                "  --json FILE              also write our results as JSON (bench_peft.py's schema)",
                "  --results FILE[,FILE...] measure nothing: print the table from --json files written earlier (median per number)",
                "  --threads N              libtorch intra-op threads (default 2)",
                "  --interop-threads N      libtorch inter-op threads (default 1)",
                "  --warmup N               untimed repetitions before each timing (default 1; layer: 3 + N)",
                "  --layer-iterations N     timed repetitions, section 1 (default 20)",
                "  --train-iterations N     timed training steps per configuration (default 3)",
                "  --infer-iterations N     timed inference forwards per configuration (default 3)",
                "  --merge-iterations N     timed merges (default 5)",
                "  --batches 8,32           batch sizes of section 2 (default 8,32)",
                "  --seq N                  sequence length (default 128)",
                "  --layers N               encoder layers (default 12, RoBERTa-base)",
                "  --rank N                 adapter rank (default 8)",
                "  --methods a,b            adapters (default lora,delora,delora-paper,loraxs,sora; base always runs)",
                "  --batch-methods 32:a,b   other adapters for one batch size (repeat with ';'), to keep big batches short",
                "  --sections a,b           layer,train,soak (default all)",
                "  --soak-steps N           training steps of the memory trace (default 1000)",
                "  --soak-layers N --soak-batch N --soak-seq N --soak-method M   its model (default 2, 4, 64, delora)",
                "  --no-fork                run every configuration in this JVM (peak memory is then shared)");
    }

    /**
     * Entry point.
     *
     * @param args options, see {@code --help}
     * @throws Exception if a configuration fails
     */
    public static void main(String[] args) throws Exception {
        Options o;
        try {
            if (Arrays.asList(args).contains("--help")) {
                System.out.println(usage());
                return;
            }
            o = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.println(usage());
            System.exit(2);
            return;
        }
        setThreadProperties(o);
        if (o.child() != null) {
            JsonObject r = runChild(o);
            System.out.println(RESULT + r);
            return;
        }
        if (o.results() != null) {
            Table.print(System.out, o, JsonMedian.read(o.results()), o.peft() == null ? null
                    : JsonMedian.read(o.peft()));
            return;
        }
        JsonObject ours = new JsonObject();
        ours.add("meta", meta(o));
        List<String> base = baseArgs(o);
        if (o.sections().contains("layer")) {
            System.err.println("[bench] section 1: adapted Linear");
            ours.add("layer", run(o, base, List.of("--child", "layer")));
        }
        if (o.sections().contains("train")) {
            JsonObject train = new JsonObject();
            for (int b : o.batches()) {
                JsonObject perMethod = new JsonObject();
                for (Method m : withBase(o.batchMethods().getOrDefault(b, o.methods()))) {
                    System.err.printf(Locale.ROOT, "[bench] section 2: %s, batch %d%n", m.key(), b);
                    perMethod.add(m.key(), run(o, base, List.of("--child", "train", "--method", m.key(), "--batch",
                            Integer.toString(b))));
                }
                train.add(Integer.toString(b), perMethod);
            }
            ours.add("train", train);
        }
        if (o.sections().contains("soak")) {
            System.err.println("[bench] native memory over " + o.soakSteps() + " steps");
            ours.add("soak", run(o, base, List.of("--child", "soak")));
        }
        JsonObject peft = o.peft() == null ? null : JsonMedian.read(o.peft());
        if (o.json() != null) {
            Files.writeString(o.json(), new GsonBuilder().setPrettyPrinting().create().toJson(ours));
        }
        Table.print(System.out, o, ours, peft);
    }

    private static List<Method> withBase(List<Method> methods) {
        List<Method> all = new ArrayList<>(List.of(Method.BASE));
        methods.stream().filter(m -> m != Method.BASE).forEach(all::add);
        return all;
    }

    private static void setThreadProperties(Options o) {
        // read once by PtEngine when the engine starts; nothing here has touched the engine yet
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(o.threads()));
        System.setProperty("ai.djl.pytorch.num_interop_threads", Integer.toString(o.interopThreads()));
        System.setProperty("ai.djl.offline", "true");
    }

    private static JsonObject meta(Options o) {
        JsonObject m = new JsonObject();
        m.addProperty("date", ZonedDateTime.now().toString());
        m.addProperty("java", System.getProperty("java.version"));
        m.addProperty("threads", o.threads());
        m.addProperty("interop_threads", o.interopThreads());
        m.addProperty("warmup", o.warmup());
        m.addProperty("train_iterations", o.trainIterations());
        m.addProperty("seq", o.seq());
        m.addProperty("layers", o.layers());
        m.addProperty("rank", o.rank());
        return m;
    }

    /** The options every child inherits. */
    private static List<String> baseArgs(Options o) {
        return List.of("--threads", "" + o.threads(), "--interop-threads", "" + o.interopThreads(),
                "--warmup", "" + o.warmup(), "--layer-iterations", "" + o.layerIterations(),
                "--train-iterations", "" + o.trainIterations(), "--infer-iterations", "" + o.inferIterations(),
                "--merge-iterations", "" + o.mergeIterations(), "--seq", "" + o.seq(), "--layers", "" + o.layers(),
                "--rank", "" + o.rank(), "--methods", String.join(",", o.methods().stream().map(Method::key).toList()),
                "--soak-steps", "" + o.soakSteps(), "--soak-layers", "" + o.soakLayers(),
                "--soak-batch", "" + o.soakBatch(), "--soak-seq", "" + o.soakSeq(),
                "--soak-method", o.soakMethod().key());
    }

    private static JsonObject run(Options o, List<String> base, List<String> childArgs) throws Exception {
        List<String> args = new ArrayList<>(base);
        args.addAll(childArgs);
        if (!o.fork()) {
            return runChild(parse(args.toArray(String[]::new)));
        }
        // The memory trace pre-touches a fixed heap, so that RSS growth during the run can only be native memory
        // (otherwise G1 touching more of its committed heap step after step looks the same as a native leak).
        List<String> heap = childArgs.contains("soak")
                ? List.of("-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch") : List.of("-Xmx2g");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(heap);
        cmd.addAll(List.of("-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=" + o.threads(),
                "-Dai.djl.pytorch.num_interop_threads=" + o.interopThreads(),
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", System.getProperty("java.class.path"), BenchmarkMain.class.getName()));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String result = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith(RESULT)) {
                    result = line.substring(RESULT.length());
                } else {
                    System.err.println(line);
                }
            }
        }
        int rc = p.waitFor();
        if (rc != 0 || result == null) {
            throw new IllegalStateException("benchmark child " + childArgs + " failed (exit " + rc + ")");
        }
        return JsonParser.parseString(result).getAsJsonObject();
    }

    /** Runs one configuration in this JVM and returns its measurements. */
    static JsonObject runChild(Options o) throws Exception {
        return switch (o.child()) {
            case "layer" -> layer(o);
            case "train" -> train(o);
            case "soak" -> soak(o);
            default -> throw new IllegalArgumentException("unknown --child '" + o.child() + "'");
        };
    }

    private static JsonObject layer(Options o) throws Exception {
        JsonObject out = new JsonObject();
        for (Method m : withBase(o.methods())) {
            try (LayerCase c = LayerCase.create(m, 32, 128, 768, o.rank())) {
                double ms = Timing.medianMs(3 + o.warmup(), o.layerIterations(), c::step);
                JsonObject r = new JsonObject();
                r.addProperty("median_ms", ms);
                out.add(m.key(), r);
                System.err.printf(Locale.ROOT, "[bench]   %-13s %8.2f ms%n", m.key(), ms);
            }
        }
        return out;
    }

    private static JsonObject train(Options o) throws Exception {
        JsonObject r = new JsonObject();
        try (EncoderCase c = EncoderCase.create(o.method(), o.layers(), o.rank(), o.batch(), o.seq())) {
            r.addProperty("trainable_params", c.trainableParameters());
            double step = Timing.medianMs(o.warmup(), o.trainIterations(), c::trainStep);
            r.addProperty("step_ms", step);
            r.addProperty("samples_per_s", o.batch() * 1000.0 / step);
            r.addProperty("peak_rss_mb", Rss.peakMb());
            double infer = Timing.medianMs(o.warmup(), o.inferIterations(), c::inferStep);
            if (c.peft() == null) {
                r.addProperty("infer_ms", infer);
            } else {
                r.addProperty("infer_unmerged_ms", infer);
                try {
                    double[] merge = new double[o.mergeIterations()];
                    for (int i = 0; i < merge.length; i++) {
                        long t0 = System.nanoTime();
                        c.peft().merge();
                        merge[i] = (System.nanoTime() - t0) / 1e6;
                        c.peft().unmerge();
                    }
                    r.addProperty("merge_ms", Timing.median(merge));
                    c.peft().merge();
                    r.addProperty("infer_merged_ms", Timing.medianMs(o.warmup(), o.inferIterations(), c::inferStep));
                } catch (IllegalStateException e) {
                    // a refused merge is a finding to report, not a reason to lose the other numbers
                    r.addProperty("merge_error", e.getMessage());
                    System.err.println("[bench]   merge failed: " + e.getMessage());
                }
            }
            r.addProperty("peak_rss_end_mb", Rss.peakMb());
        }
        System.err.println("[bench]   " + r);
        return r;
    }

    private static JsonObject soak(Options o) {
        JsonObject r = new JsonObject();
        r.addProperty("method", o.soakMethod().key());
        r.addProperty("layers", o.soakLayers());
        r.addProperty("batch", o.soakBatch());
        r.addProperty("seq", o.soakSeq());
        JsonObject rss = new JsonObject();
        JsonObject heap = new JsonObject();
        long t0 = System.nanoTime();
        try (EncoderCase c = EncoderCase.create(o.soakMethod(), o.soakLayers(), o.rank(), o.soakBatch(), o.soakSeq())) {
            for (int step = 1; step <= o.soakSteps(); step++) {
                c.trainStep();
                if (step == 1 || step == 10 || step % 100 == 0 || step == o.soakSteps()) {
                    rss.addProperty(Integer.toString(step), Rss.currentMb());
                    // the Java heap is part of RSS; what it has committed is not native (libtorch) memory
                    double committed = Runtime.getRuntime().totalMemory() / (1024.0 * 1024);
                    heap.addProperty(Integer.toString(step), committed);
                    if (step % 100 == 0) {
                        System.err.printf(Locale.ROOT, "[bench]   step %d: RSS %.1f MiB (Java heap committed %.1f)%n",
                                step, Rss.currentMb(), committed);
                    }
                }
            }
        }
        r.add("rss_mb", rss);
        r.add("java_heap_committed_mb", heap);
        r.addProperty("seconds", (System.nanoTime() - t0) / 1e9);
        return r;
    }

    static Options parse(String[] args) {
        Map<String, String> v = new LinkedHashMap<>();
        boolean fork = true;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--no-fork")) {
                fork = false;
                continue;
            }
            if (!a.startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected '--option value', got '" + a + "'");
            }
            v.put(a.substring(2), args[++i]);
        }
        List<String> known = List.of("threads", "interop-threads", "warmup", "layer-iterations", "train-iterations",
                "infer-iterations", "merge-iterations", "batches", "seq", "layers", "rank", "methods", "sections",
                "soak-steps", "soak-layers", "soak-batch", "soak-seq", "soak-method", "peft", "json", "results", "child", "batch-methods",
                "method", "batch");
        for (String k : v.keySet()) {
            if (!known.contains(k)) {
                throw new IllegalArgumentException("unknown option --" + k);
            }
        }
        return new Options(intOf(v, "threads", 2), intOf(v, "interop-threads", 1), intOf(v, "warmup", 1),
                intOf(v, "layer-iterations", 20), intOf(v, "train-iterations", 3), intOf(v, "infer-iterations", 3),
                intOf(v, "merge-iterations", 5),
                Arrays.stream(v.getOrDefault("batches", "8,32").split(",")).map(s -> parseInt("batches", s)).toList(),
                intOf(v, "seq", 128), intOf(v, "layers", 12), intOf(v, "rank", 8),
                Arrays.stream(v.getOrDefault("methods", "lora,delora,delora-paper,loraxs,sora").split(","))
                        .map(Method::of).toList(),
                batchMethods(v.getOrDefault("batch-methods", "")),
                Arrays.stream(v.getOrDefault("sections", "layer,train,soak").split(",")).map(String::trim).toList(),
                intOf(v, "soak-steps", 1000), intOf(v, "soak-layers", 2), intOf(v, "soak-batch", 4),
                intOf(v, "soak-seq", 64), Method.of(v.getOrDefault("soak-method", "delora")),
                v.containsKey("peft") ? paths(v.get("peft")) : null,
                v.containsKey("json") ? Path.of(v.get("json")) : null,
                v.containsKey("results") ? paths(v.get("results")) : null, fork, v.get("child"),
                v.containsKey("method") ? Method.of(v.get("method")) : null, intOf(v, "batch", 0));
    }

    private static List<Path> paths(String commaSeparated) {
        return Arrays.stream(commaSeparated.split(",")).map(String::trim).map(Path::of).toList();
    }

    private static Map<Integer, List<Method>> batchMethods(String spec) {
        Map<Integer, List<Method>> out = new LinkedHashMap<>();
        for (String part : spec.split(";")) {
            if (part.isBlank()) {
                continue;
            }
            int colon = part.indexOf(':');
            if (colon < 0) {
                throw new IllegalArgumentException("--batch-methods expects 'batch:method,method', got '" + part + "'");
            }
            out.put(parseInt("batch-methods", part.substring(0, colon)),
                    Arrays.stream(part.substring(colon + 1).split(",")).map(Method::of).toList());
        }
        return out;
    }

    private static int intOf(Map<String, String> v, String key, int def) {
        return v.containsKey(key) ? parseInt(key, v.get(key)) : def;
    }

    private static int parseInt(String key, String s) {
        try {
            return Integer.parseInt(s.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + key + " expects an integer, got '" + s + "'", e);
        }
    }

    /** Formats the results as one markdown table. */
    static final class Table {

        private Table() {}

        static void print(PrintStream out, Options o, JsonObject ours, JsonObject peft) {
            List<String[]> rows = new ArrayList<>();
            JsonObject pl = peft == null ? null : obj(peft, "layer");
            JsonObject layer = obj(ours, "layer");
            if (layer != null) {
                double plain = num(layer, "base", "median_ms");
                Double peftPlain = num(pl, "base", "median_ms");
                for (Map.Entry<String, JsonElement> e : layer.entrySet()) {
                    String m = e.getKey();
                    Double t = num(layer, m, "median_ms");
                    Double p = num(pl, m, "median_ms");
                    String label = m.equals("base") ? "plain frozen Linear" : m;
                    rows.add(new String[] {"1 Linear 768→768 fwd+bwd, 32×128 (ms)", label,
                            ms(t) + vs(t, plain, "plain", m.equals("base")),
                            p == null ? "–" : ms(p) + vs(p, peftPlain, "plain", m.equals("base")), ratio(t, p)});
                }
            }
            JsonObject train = obj(ours, "train");
            JsonObject pt = peft == null ? null : obj(peft, "train");
            if (train != null) {
                for (String b : train.keySet()) {
                    JsonObject tb = train.getAsJsonObject(b);
                    JsonObject pb = obj(pt, b);
                    Double baseStep = num(tb, "base", "step_ms");
                    Double peftBaseStep = num(pb, "base", "step_ms");
                    for (String m : tb.keySet()) {
                        Double s = num(tb, m, "samples_per_s");
                        Double ps = num(pb, m, "samples_per_s");
                        rows.add(new String[] {"2 train step, batch " + b + " (samples/s; ±% step time vs base)",
                                m.equals("base") ? "frozen base (head + emb. LN)" : m,
                                f1(s) + vs(num(tb, m, "step_ms"), baseStep, "base", m.equals("base")),
                                ps == null ? "–" : f1(ps) + vs(num(pb, m, "step_ms"), peftBaseStep, "base",
                                        m.equals("base")),
                                ratio(s, ps)});
                    }
                    for (String m : tb.keySet()) {
                        Double r = num(tb, m, "peak_rss_mb");
                        Double pr = num(pb, m, "peak_rss_mb");
                        rows.add(new String[] {"2 peak RSS, batch " + b + " (MiB, VmHWM)", m, f0(r),
                                pr == null ? "–" : f0(pr), ratio(r, pr)});
                    }
                    Double baseInfer = num(tb, "base", "infer_ms");
                    Double peftBaseInfer = num(pb, "base", "infer_ms");
                    rows.add(new String[] {"2 inference, batch " + b + " (ms/batch)", "frozen base",
                            ms(baseInfer), peftBaseInfer == null ? "–" : ms(peftBaseInfer),
                            ratio(baseInfer, peftBaseInfer)});
                    for (String m : tb.keySet()) {
                        if (m.equals("base")) {
                            continue;
                        }
                        for (String kind : List.of("unmerged", "merged")) {
                            Double t = num(tb, m, "infer_" + kind + "_ms");
                            Double p = num(pb, m, "infer_" + kind + "_ms");
                            rows.add(new String[] {"2 inference, batch " + b + " (ms/batch)", m + " " + kind,
                                    ms(t) + vs(t, baseInfer, "base", false),
                                    p == null ? "–" : ms(p) + vs(p, peftBaseInfer, "base", false), ratio(t, p)});
                        }
                    }
                }
                // merge time does not depend on the batch: report the first batch where the merge succeeded
                Map<String, String[]> mergeRows = new LinkedHashMap<>();
                for (String b : train.keySet()) {
                    JsonObject tb = train.getAsJsonObject(b);
                    JsonObject pb = obj(pt, b);
                    for (String m : tb.keySet()) {
                        JsonObject entry = obj(tb, m);
                        Double t = num(tb, m, "merge_ms");
                        String[] row = mergeRows.get(m);
                        if (t != null && (row == null || row[2].startsWith("failed"))) {
                            Double p = num(pb, m, "merge_ms");
                            String note = row == null ? "" : " (" + row[2] + ")";
                            mergeRows.put(m, new String[] {"3 merge all " + 2 * layers(ours, o) + " adapters (ms)", m,
                                    ms(t) + " (batch-" + b + " run)" + note, p == null ? "–" : ms(p), ratio(t, p)});
                        } else if (entry != null && entry.has("merge_error")) {
                            String err = "failed at batch " + b + ": " + entry.get("merge_error").getAsString();
                            if (row == null) {
                                mergeRows.put(m, new String[] {"3 merge all " + 2 * layers(ours, o) + " adapters (ms)",
                                        m, err, "–", "–"});
                            } else {
                                row[2] = row[2] + "; " + err;
                            }
                        }
                    }
                }
                rows.addAll(mergeRows.values());
            }
            JsonObject soak = obj(ours, "soak");
            if (soak != null) {
                JsonObject rss = soak.getAsJsonObject("rss_mb");
                JsonObject prss = peft == null || obj(peft, "soak") == null ? null
                        : obj(peft, "soak").getAsJsonObject("rss_mb");
                String what = String.format(Locale.ROOT, "RSS over training (MiB): %s, %d layers, batch %d×%d",
                        soak.get("method").getAsString(), soak.get("layers").getAsInt(), soak.get("batch").getAsInt(),
                        soak.get("seq").getAsInt());
                for (String step : rss.keySet()) {
                    if (List.of("1", "100", "500", "1000").contains(step) || !rss.has("1000")) {
                        Double r = rss.get(step).getAsDouble();
                        Double p = prss != null && prss.has(step) ? prss.get(step).getAsDouble() : null;
                        JsonObject heap = obj(soak, "java_heap_committed_mb");
                        String h = heap != null && heap.has(step)
                                ? " (heap " + f0(heap.get(step).getAsDouble()) + ")" : "";
                        rows.add(new String[] {what, "step " + step, f0(r) + h, p == null ? "–" : f0(p),
                                ratio(r, p)});
                    }
                }
            }
            out.println("| measurement | case | delora4j | PyTorch + PEFT | ours/PEFT |");
            out.println("|---|---|---:|---:|---:|");
            String last = null;
            for (String[] r : rows) {
                out.printf("| %s | %s | %s | %s | %s |%n", r[0].equals(last) ? "" : r[0], r[1], r[2], r[3], r[4]);
                last = r[0];
            }
        }

        private static int layers(JsonObject ours, Options o) {
            JsonObject meta = obj(ours, "meta");
            return meta != null && meta.has("layers") ? meta.get("layers").getAsInt() : o.layers();
        }

        private static JsonObject obj(JsonObject o, String key) {
            return o == null || !o.has(key) || !o.get(key).isJsonObject() ? null : o.getAsJsonObject(key);
        }

        private static Double num(JsonObject o, String key, String field) {
            JsonObject e = obj(o, key);
            return e == null || !e.has(field) || e.get(field).isJsonNull() ? null : e.get(field).getAsDouble();
        }

        private static String vs(Double t, Double base, String name, boolean isBase) {
            if (isBase || t == null || base == null) {
                return "";
            }
            return String.format(Locale.ROOT, " (%+.1f%% vs %s)", 100 * (t / base - 1), name);
        }

        private static String ratio(Double a, Double b) {
            return a == null || b == null ? "–" : String.format(Locale.ROOT, "%.2f", a / b);
        }

        private static String ms(Double v) {
            return v == null ? "–" : String.format(Locale.ROOT, v < 10 ? "%.2f" : "%.1f", v);
        }

        private static String f1(Double v) {
            return v == null ? "–" : String.format(Locale.ROOT, "%.2f", v);
        }

        private static String f0(Double v) {
            return v == null ? "–" : String.format(Locale.ROOT, "%,.0f", v);
        }
    }
}
