package dev.delora.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import dev.delora.fixtures.Fixtures;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code convert-gguf} on the tiny GGUF of {@code parity/gguf_fixture.py}: the folder equals the reference converter's
 * (same tensors byte for byte, same config and tokenizer), and a missing file is a one-line error.
 */
class ConvertGgufCommandTest {

    @TempDir
    Path tmp;

    @Test
    void writesTheReferenceConvertersFolder() throws Exception {
        Path out = tmp.resolve("hf");
        assertEquals(
                0, run("convert-gguf", Fixtures.path("gguf/tiny-llama.gguf").toString(), out.toString()));
        assertArrayEquals(
                Files.readAllBytes(Fixtures.path("gguf/tensors.safetensors")),
                Files.readAllBytes(out.resolve("model.safetensors")));
        for (String json : new String[] {"config.json", "tokenizer.json", "tokenizer_config.json"}) {
            assertEquals(
                    JsonParser.parseString(
                            Files.readString(Fixtures.dir("gguf/hf").resolve(json))),
                    JsonParser.parseString(Files.readString(out.resolve(json))),
                    json);
        }
    }

    @Test
    void aMissingFileIsAOneLineError() {
        StringWriter err = new StringWriter();
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(new StringWriter(), true));
        cli.setErr(new PrintWriter(err, true));
        int status = cli.execute(
                "convert-gguf",
                tmp.resolve("none.gguf").toString(),
                tmp.resolve("o").toString());
        assertEquals(2, status, err.toString());
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
        assertTrue(err.toString().contains("no such file"), err.toString());
        assertTrue(Files.notExists(tmp.resolve("o")));
    }

    private static int run(String... args) {
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(new StringWriter(), true));
        cli.setErr(new PrintWriter(new StringWriter(), true));
        return cli.execute(args);
    }
}
