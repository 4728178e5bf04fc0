package dev.delora.benchmarks;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import dev.delora.core.AdapterConfig;
import dev.delora.core.method.AdapterMethods;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.ParameterException;

/** Parsing and checking {@link BenchmarkMain}'s options, and the run's metadata. */
final class OptionChecks {

    private OptionChecks() {}

    /** Checks ranges and combinations, as a usage error. */
    static void validate(BenchmarkMain o) {
        o.methods = specs(o, "--methods", o.methodList);
        o.batchMethods = batchSpecs(o, o.batchMethodList);
        List<String> problems = new ArrayList<>();
        check(problems, o.threads >= 1 && o.interopThreads >= 1, "--threads and --interop-threads must be >= 1");
        check(problems, o.warmup >= 0, "--warmup must be >= 0");
        check(
                problems,
                o.layerIterations >= 1 && o.trainIterations >= 1 && o.inferIterations >= 1 && o.mergeIterations >= 1,
                "every --*-iterations must be >= 1");
        check(problems, o.batches.stream().allMatch(b -> b >= 1), "--batches must be >= 1");
        check(problems, o.seq >= 1 && o.layers >= 1 && o.rank >= 1, "--seq, --layers and --rank must be >= 1");
        check(
                problems,
                o.soakSteps >= 1 && o.soakLayers >= 1 && o.soakBatch >= 1 && o.soakSeq >= 1,
                "every --soak-* number must be >= 1");
        check(problems, !o.soakMethod.isBase(), "--soak-method needs an adapter, not base");
        check(
                problems,
                o.child != BenchmarkMain.Section.TRAIN || o.method != null && o.batch >= 1,
                "--child train needs --method and --batch >= 1");
        for (List<Path> files : Arrays.asList(o.results, o.peft)) {
            if (files != null) {
                files.stream()
                        .filter(f -> !Files.isRegularFile(f))
                        .findFirst()
                        .ifPresent(f -> problems.add("no such file: " + f));
            }
        }
        if (!problems.isEmpty()) {
            throw new ParameterException(o.spec.commandLine(), String.join("; ", problems));
        }
    }

    private static void check(List<String> problems, boolean ok, String message) {
        if (!ok) {
            problems.add(message);
        }
    }

    private static Map<Integer, List<MethodSpec>> batchSpecs(BenchmarkMain o, String value) {
        Map<Integer, List<MethodSpec>> out = new LinkedHashMap<>();
        for (String part : value.split(";")) {
            if (part.isBlank()) {
                continue;
            }
            int colon = part.indexOf(':');
            int b;
            try {
                b = colon < 0 ? -1 : Integer.parseInt(part.substring(0, colon).trim());
            } catch (NumberFormatException e) {
                b = -1;
            }
            if (b < 1) {
                throw new ParameterException(
                        o.spec.commandLine(),
                        "Invalid value for option '--batch-methods': "
                                + "expected 'batch:method,method', batch >= 1, got '" + part + "'");
            }
            out.put(b, specs(o, "--batch-methods", part.substring(colon + 1)));
        }
        return out;
    }

    private static List<MethodSpec> specs(BenchmarkMain o, String option, String value) {
        try {
            return MethodSpec.parseList(value);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(
                    o.spec.commandLine(), "Invalid value for option '" + option + "': " + e.getMessage());
        }
    }

    /** The run's settings and the adapter config of every measured method, for the results file. */
    static JsonObject meta(BenchmarkMain o) {
        JsonObject m = new JsonObject();
        m.addProperty("date", ZonedDateTime.now().toString());
        m.addProperty("java", System.getProperty("java.version"));
        m.addProperty("threads", o.threads);
        m.addProperty("interop_threads", o.interopThreads);
        m.addProperty("warmup", o.warmup);
        m.addProperty("train_iterations", o.trainIterations);
        m.addProperty("seq", o.seq);
        m.addProperty("layers", o.layers);
        m.addProperty("rank", o.rank);
        // what each key means: the full adapter_config.json fields of the encoder's adapter
        JsonObject configs = new JsonObject();
        Gson gson = new Gson();
        List<MethodSpec> all = new ArrayList<>(o.methods);
        o.batchMethods.values().forEach(all::addAll);
        all.add(o.soakMethod);
        for (MethodSpec s : all) {
            if (!s.isBase() && !configs.has(s.label())) {
                AdapterConfig c = s.config(o.rank, EncoderCase.TARGETS, List.of(EncoderCase.HEAD));
                configs.add(s.label(), gson.toJsonTree(AdapterMethods.of(c).toFields(c)));
            }
        }
        m.add("methods", configs);
        return m;
    }
}
