package dev.delora.benchmarks;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Formats results (ours and, optionally, PEFT's, both in {@code bench_peft.py}'s JSON schema) as one markdown table
 * with our/PEFT ratios. Method keys are printed as they are; only {@code base} is special.
 */
final class ResultTable {

    private ResultTable() {}

    /**
     * Prints the table.
     *
     * @param out where to print
     * @param layers the encoder depth when the results' {@code meta} lacks it
     * @param ours our results
     * @param peft PEFT's results, or null
     */
    static void print(PrintStream out, int layers, JsonObject ours, JsonObject peft) {
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
                rows.add(new String[] {
                    "1 Linear 768→768 fwd+bwd, 32×128 (ms)",
                    label,
                    ms(t) + vs(t, plain, "plain", m.equals("base")),
                    p == null ? "–" : ms(p) + vs(p, peftPlain, "plain", m.equals("base")),
                    ratio(t, p)
                });
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
                    rows.add(new String[] {
                        "2 train step, batch " + b + " (samples/s; ±% step time vs base)",
                        m.equals("base") ? "frozen base (head + emb. LN)" : m,
                        f1(s) + vs(num(tb, m, "step_ms"), baseStep, "base", m.equals("base")),
                        ps == null ? "–" : f1(ps) + vs(num(pb, m, "step_ms"), peftBaseStep, "base", m.equals("base")),
                        ratio(s, ps)
                    });
                }
                for (String m : tb.keySet()) {
                    Double r = num(tb, m, "peak_rss_mb");
                    Double pr = num(pb, m, "peak_rss_mb");
                    rows.add(new String[] {
                        "2 peak RSS, batch " + b + " (MiB, VmHWM)", m, f0(r), pr == null ? "–" : f0(pr), ratio(r, pr)
                    });
                }
                Double baseInfer = num(tb, "base", "infer_ms");
                Double peftBaseInfer = num(pb, "base", "infer_ms");
                rows.add(new String[] {
                    "2 inference, batch " + b + " (ms/batch)",
                    "frozen base",
                    ms(baseInfer),
                    peftBaseInfer == null ? "–" : ms(peftBaseInfer),
                    ratio(baseInfer, peftBaseInfer)
                });
                for (String m : tb.keySet()) {
                    if (m.equals("base")) {
                        continue;
                    }
                    for (String kind : List.of("unmerged", "merged")) {
                        Double t = num(tb, m, "infer_" + kind + "_ms");
                        Double p = num(pb, m, "infer_" + kind + "_ms");
                        rows.add(new String[] {
                            "2 inference, batch " + b + " (ms/batch)",
                            m + " " + kind,
                            ms(t) + vs(t, baseInfer, "base", false),
                            p == null ? "–" : ms(p) + vs(p, peftBaseInfer, "base", false),
                            ratio(t, p)
                        });
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
                        mergeRows.put(m, new String[] {
                            "3 merge all " + 2 * layers(ours, layers) + " adapters (ms)",
                            m,
                            ms(t) + " (batch-" + b + " run)" + note,
                            p == null ? "–" : ms(p),
                            ratio(t, p)
                        });
                    } else if (entry != null && entry.has("merge_error")) {
                        String err = "failed at batch " + b + ": "
                                + entry.get("merge_error").getAsString();
                        if (row == null) {
                            mergeRows.put(m, new String[] {
                                "3 merge all " + 2 * layers(ours, layers) + " adapters (ms)", m, err, "–", "–"
                            });
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
            JsonObject prss = peft == null || obj(peft, "soak") == null
                    ? null
                    : obj(peft, "soak").getAsJsonObject("rss_mb");
            String what = String.format(
                    Locale.ROOT,
                    "RSS over training (MiB): %s, %d layers, batch %d×%d",
                    soak.get("method").getAsString(),
                    soak.get("layers").getAsInt(),
                    soak.get("batch").getAsInt(),
                    soak.get("seq").getAsInt());
            for (String step : rss.keySet()) {
                if (List.of("1", "100", "500", "1000").contains(step) || !rss.has("1000")) {
                    Double r = rss.get(step).getAsDouble();
                    Double p = prss != null && prss.has(step) ? prss.get(step).getAsDouble() : null;
                    JsonObject heap = obj(soak, "java_heap_committed_mb");
                    String h = heap != null && heap.has(step)
                            ? " (heap " + f0(heap.get(step).getAsDouble()) + ")"
                            : "";
                    rows.add(new String[] {what, "step " + step, f0(r) + h, p == null ? "–" : f0(p), ratio(r, p)});
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

    private static int layers(JsonObject ours, int fallback) {
        JsonObject meta = obj(ours, "meta");
        return meta != null && meta.has("layers") ? meta.get("layers").getAsInt() : fallback;
    }

    private static JsonObject obj(JsonObject o, String key) {
        return o == null || !o.has(key) || !o.get(key).isJsonObject() ? null : o.getAsJsonObject(key);
    }

    private static Double num(JsonObject o, String key, String field) {
        JsonObject e = obj(o, key);
        return e == null || !e.has(field) || e.get(field).isJsonNull()
                ? null
                : e.get(field).getAsDouble();
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
