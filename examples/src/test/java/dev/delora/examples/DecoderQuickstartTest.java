package dev.delora.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.delora.examples.gsm8k.TinyChatModel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The user guide's decoder program: shown there verbatim, and it runs (here on tiny-llama with a tiny tokenizer). */
class DecoderQuickstartTest {

    private static final Path MODULE = Path.of("").toAbsolutePath();
    private static final Path SOURCE = MODULE.resolve("src/main/java/dev/delora/examples/DecoderQuickstart.java");
    private static final Path GUIDE = MODULE.resolve("../docs/user-guide.md").normalize();

    @TempDir
    Path tmp;

    @Test
    void theUserGuideShowsTheFileVerbatim() throws Exception {
        String guide = Files.readString(GUIDE, StandardCharsets.UTF_8);
        int section = guide.indexOf("## Decoder language models");
        assertTrue(section >= 0, "no decoder section in " + GUIDE);
        int start = guide.indexOf("```java\n", section) + "```java\n".length();
        int end = guide.indexOf("```", start);
        assertEquals(
                Files.readString(SOURCE, StandardCharsets.UTF_8),
                guide.substring(start, end),
                "docs/user-guide.md's decoder block must be " + SOURCE + " verbatim");
    }

    @Test
    void itLoadsInjectsTrainsAndGenerates() throws Exception {
        Path model = TinyChatModel.folder(tmp.resolve("model"));
        PrintStream saved = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (PrintStream capture = new PrintStream(out, true, StandardCharsets.UTF_8)) {
            System.setOut(capture);
            DecoderQuickstart.main(new String[] {model.toString()});
        } finally {
            System.setOut(saved);
        }
        assertTrue(out.toString(StandardCharsets.UTF_8).endsWith("\n"), "prints the generated text");
    }
}
