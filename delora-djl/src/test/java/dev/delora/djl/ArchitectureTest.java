package dev.delora.djl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The allowed dependencies between delora4j's packages (docs/architecture.md), checked on the sources: every
 * {@code import dev.delora…} of every main class must be an allowed edge. The allowed graph has no cycle, and no shared
 * package imports a method package other than LoRA (the exchange format every method converts to).
 */
class ArchitectureTest {

    private static final Set<String> METHOD_DEPS =
            Set.of("core", "core.array", "core.linalg", "core.method", "core.target");

    private static final Map<String, Set<String>> ALLOWED = Map.ofEntries(
            Map.entry("core", Set.of("core.array", "core.target")),
            Map.entry("core.array", Set.of()),
            Map.entry("core.linalg", Set.of()),
            Map.entry("core.target", Set.of()),
            Map.entry("core.method", Set.of("core", "core.target")),
            Map.entry("core.lora", METHOD_DEPS),
            Map.entry("core.delora", METHOD_DEPS),
            Map.entry("core.loraxs", METHOD_DEPS),
            Map.entry("core.sora", METHOD_DEPS),
            Map.entry("core.dora", with(METHOD_DEPS, "core.lora")),
            Map.entry("djl.io", Set.of("core.array")),
            Map.entry("djl.tree", Set.of("core.target")),
            // core.method: AdapterStatus names each adapter's method through the registry
            Map.entry(
                    "djl.peft",
                    Set.of("core", "core.array", "core.target", "core.lora", "core.linalg", "core.method", "djl.tree")),
            Map.entry(
                    "djl.persist",
                    Set.of(
                            "core",
                            "core.array",
                            "core.method",
                            "core.target",
                            "core.lora",
                            "djl.io",
                            "djl.tree",
                            "djl.peft")),
            Map.entry("djl.train", Set.of("core", "core.array", "core.method", "djl.tree", "djl.peft")),
            // core.target: LoadReport.modulesToSave matches head entries as PEFT does
            Map.entry("djl.hf", Set.of("core", "core.array", "core.target", "djl.io", "djl.tree", "djl.peft")),
            Map.entry("djl.hf.chat", Set.of()),
            Map.entry("djl.hf.gguf", Set.of("djl.io")),
            Map.entry("djl.hf.decoder", Set.of("core", "core.array", "djl.io", "djl.tree", "djl.peft", "djl.hf")));

    private static final Pattern PACKAGE = Pattern.compile("^package dev\\.delora\\.([\\w.]+);", Pattern.MULTILINE);
    private static final Pattern IMPORT = Pattern.compile(
            "^import (?:static )?dev\\.delora\\.([a-z]\\w*(?:\\.[a-z]\\w*)*)\\.[A-Z]", Pattern.MULTILINE);

    @Test
    void packagesDependOnlyDownwards() throws IOException {
        Path here = Path.of("").toAbsolutePath();
        List<Path> roots = List.of(
                here.resolve("src/main/java"),
                here.resolveSibling("delora-core").resolve("src/main/java"));
        Set<String> violations = new TreeSet<>();
        Map<String, Set<String>> actual = new TreeMap<>();
        int files = 0;
        for (Path root : roots) {
            assertTrue(Files.isDirectory(root), "sources not found at " + root);
            try (Stream<Path> walk = Files.walk(root)) {
                for (Path f : walk.filter(p -> p.toString().endsWith(".java")).toList()) {
                    String src = Files.readString(f);
                    Matcher pm = PACKAGE.matcher(src);
                    assertTrue(pm.find(), f + " has no dev.delora package");
                    String pkg = pm.group(1);
                    Set<String> allowed = ALLOWED.get(pkg);
                    if (allowed == null) {
                        violations.add(pkg + " (package not in the architecture; add it to docs/architecture.md "
                                + "and this test)");
                        continue;
                    }
                    files++;
                    Matcher im = IMPORT.matcher(src);
                    while (im.find()) {
                        String target = im.group(1);
                        if (!target.equals(pkg)) {
                            actual.computeIfAbsent(pkg, k -> new TreeSet<>()).add(target);
                        }
                        if (!target.equals(pkg) && !allowed.contains(target)) {
                            violations.add(pkg + " -> " + target + " (" + root.relativize(f) + ")");
                        }
                    }
                }
            }
        }
        assertTrue(files > 50, "only " + files + " files checked");
        assertTrue(violations.isEmpty(), "imports against the architecture: " + violations);
        assertTrue(cycle(actual).isEmpty(), "package cycle: " + cycle(actual));
        assertTrue(cycle(ALLOWED).isEmpty(), "the allowed graph itself has a cycle: " + cycle(ALLOWED));
    }

    /** A dependency cycle of the graph as a path, or an empty list (depth-first search, three colours). */
    static List<String> cycle(Map<String, Set<String>> graph) {
        Map<String, Integer> state = new HashMap<>();
        Deque<String> path = new ArrayDeque<>();
        for (String start : graph.keySet()) {
            List<String> found = visit(start, graph, state, path);
            if (!found.isEmpty()) {
                return found;
            }
        }
        return List.of();
    }

    private static List<String> visit(
            String node, Map<String, Set<String>> graph, Map<String, Integer> state, Deque<String> path) {
        Integer s = state.get(node);
        if (s != null && s == 2) {
            return List.of();
        }
        path.addLast(node);
        if (s != null && s == 1) {
            List<String> all = new ArrayList<>(path);
            return all.subList(all.indexOf(node), all.size());
        }
        state.put(node, 1);
        for (String next : graph.getOrDefault(node, Set.of())) {
            List<String> found = visit(next, graph, state, path);
            if (!found.isEmpty()) {
                return found;
            }
        }
        state.put(node, 2);
        path.removeLast();
        return List.of();
    }

    @Test
    void theCycleCheckFindsACycle() {
        List<String> found = cycle(Map.of("a", Set.of("b"), "b", Set.of("c"), "c", Set.of("a"), "d", Set.of("a")));
        assertEquals(4, found.size(), found.toString());
        assertEquals(found.get(0), found.get(3));
        assertEquals(Set.of("a", "b", "c"), Set.copyOf(found));
        assertEquals(List.of(), cycle(Map.of("a", Set.of("b"), "b", Set.of("c"))));
    }

    private static Set<String> with(Set<String> base, String extra) {
        Set<String> out = new TreeSet<>(base);
        out.add(extra);
        return out;
    }
}
