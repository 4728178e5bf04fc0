package dev.delora.djl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
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

    private static final Set<String> METHOD_DEPS = Set.of("core", "core.array", "core.linalg", "core.method",
            "core.target");

    private static final Map<String, Set<String>> ALLOWED = Map.ofEntries(
            Map.entry("core", Set.of("core.array", "core.target", "core.method")),
            Map.entry("core.array", Set.of()),
            Map.entry("core.linalg", Set.of()),
            Map.entry("core.target", Set.of()),
            Map.entry("core.method", Set.of("core", "core.target")),
            Map.entry("core.lora", METHOD_DEPS),
            Map.entry("core.delora", METHOD_DEPS),
            Map.entry("core.loraxs", METHOD_DEPS),
            Map.entry("core.sora", METHOD_DEPS),
            Map.entry("djl.io", Set.of("core.array")),
            Map.entry("djl.tree", Set.of("core.target")),
            Map.entry("djl.peft", Set.of("core", "core.array", "core.target", "core.lora", "djl.tree")),
            Map.entry("djl.persist", Set.of("core", "core.array", "core.method", "core.target", "core.lora", "djl.io",
                    "djl.tree", "djl.peft")),
            Map.entry("djl.train", Set.of("core", "core.array", "core.method", "djl.tree", "djl.peft")),
            Map.entry("djl.hf", Set.of("core", "core.array", "djl.io", "djl.tree", "djl.peft")));

    private static final Pattern PACKAGE = Pattern.compile("^package dev\\.delora\\.([\\w.]+);", Pattern.MULTILINE);
    private static final Pattern IMPORT = Pattern.compile("^import (?:static )?dev\\.delora\\.([\\w.]+)\\.[A-Z]",
            Pattern.MULTILINE);

    @Test
    void packagesDependOnlyDownwards() throws IOException {
        Path here = Path.of("").toAbsolutePath();
        List<Path> roots = List.of(here.resolve("src/main/java"), here.resolveSibling("delora-core")
                .resolve("src/main/java"));
        Set<String> violations = new TreeSet<>();
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
                        if (!target.equals(pkg) && !allowed.contains(target)) {
                            violations.add(pkg + " -> " + target + " (" + root.relativize(f) + ")");
                        }
                    }
                }
            }
        }
        assertTrue(files > 50, "only " + files + " files checked");
        assertTrue(violations.isEmpty(), "imports against the architecture: " + violations);
    }
}
