package dev.delora.examples.gsm8k;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dev.delora.core.method.AdapterMethods;
import dev.delora.examples.Main;
import dev.delora.fixtures.Fixtures;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The GSM8K runner end to end on tiny-llama with a character-level ChatML tokenizer. */
class Gsm8kRunnerTest {

    @TempDir
    Path tmp;

    @Test
    void trainingLowersTheLossAndTheSummaryHasBeforeAndAfter() throws IOException {
        Path model = tinyModel();
        Path data = data();
        Path out = tmp.resolve("out");
        Run r = run(
                "gsm8k",
                "--model",
                model.toString(),
                "--data-dir",
                data.toString(),
                "--output",
                out.toString(),
                "--method",
                "lora",
                "--lr",
                "2e-2",
                "--epochs",
                "4",
                "--batch-size",
                "4",
                "--train-samples",
                "8",
                "--eval-samples",
                "4",
                "--max-length",
                "48",
                "--max-new-tokens",
                "6");
        assertEquals(0, r.status, r.err);
        JsonObject s = JsonParser.parseString(Files.readString(out.resolve("summary.json")))
                .getAsJsonObject();
        double before = s.get("train_loss_before").getAsDouble();
        double after = s.get("train_loss_after").getAsDouble();
        assertTrue(after < before - 0.1, "train loss " + before + " -> " + after);
        for (String k : List.of("before", "after")) {
            JsonObject e = s.getAsJsonObject(k);
            assertTrue(Double.isFinite(e.get("held_out_loss").getAsDouble()), k);
            double em = e.get("exact_match").getAsDouble();
            assertTrue(em >= 0 && em <= 1, k);
        }
        assertEquals(4, s.getAsJsonArray("generations_after").size());
        assertEquals(8, s.get("train_problems").getAsInt());
        assertTrue(Files.readString(out.resolve("results.md")).contains("| after training |"));
    }

    @Test
    void theEmbeddedSampleRunsWithTruncatedSequences() throws IOException {
        Path out = tmp.resolve("embedded");
        Run r = run(
                "gsm8k",
                "--model",
                tinyModel().toString(),
                "--output",
                out.toString(),
                "--method",
                "delora",
                "--train-samples",
                "2",
                "--eval-samples",
                "1",
                "--max-length",
                "40",
                "--max-new-tokens",
                "4");
        assertEquals(0, r.status, r.err);
        JsonObject s = JsonParser.parseString(Files.readString(out.resolve("summary.json")))
                .getAsJsonObject();
        assertEquals(
                0.5, s.getAsJsonObject("adapter_fields").get("delora_lambda").getAsDouble());
        assertTrue(
                Double.isFinite(s.getAsJsonObject("after").get("held_out_loss").getAsDouble()));
    }

    @Test
    void promptsAreMaskedInTheLabels() throws IOException {
        try (Gsm8kTokens tokens = Gsm8kTokens.load(tinyModel(), dev.delora.djl.hf.decoder.GenerationConfig.none())) {
            Gsm8kProblem p = new Gsm8kProblem("1+2?", "#### 3");
            var e = tokens.example(p, 64);
            assertEquals("<|im_start|>user\n1+2?<|im_end|>\n<|im_start|>assistant\n", tokens.prompt(p.question()));
            long[] prompt = tokens.encode(tokens.prompt(p.question()));
            assertEquals(prompt.length, e.promptLength());
            assertEquals(e.inputIds().length - prompt.length, e.countedTokens());
            assertEquals(2, e.inputIds()[e.inputIds().length - 1]); // <|im_end|>
            long[] answer = tokens.encode("#### 3");
            long[] generated = java.util.Arrays.copyOf(answer, answer.length + 2);
            generated[answer.length] = 2; // <|im_end|> ends the generation, what follows is dropped
            generated[answer.length + 1] = answer[0];
            assertEquals("#### 3", tokens.decode(generated));
        }
    }

    @Test
    void theFoldersChatTemplateFormsThePrompt() throws IOException {
        Path model = tinyModel();
        Files.delete(model.resolve("tokenizer_config.json"));
        try (Gsm8kTokens tokens = Gsm8kTokens.load(model, dev.delora.djl.hf.decoder.GenerationConfig.none())) {
            assertEquals("<|im_start|>user\n1+2?<|im_end|>\n<|im_start|>assistant\n", tokens.prompt("1+2?"));
            assertTrue(tokens.promptFormat().startsWith("plain ChatML"), tokens.promptFormat());
        }
        // SmolLM2's template with a shorter default system turn (transformers renders it as below)
        String template = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
                + "{{ '<|im_start|>system\\nbe brief<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role']"
                + " + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
                + "{{ '<|im_start|>assistant\\n' }}{% endif %}";
        JsonObject config = new JsonObject();
        config.addProperty("chat_template", template);
        Files.writeString(model.resolve("tokenizer_config.json"), config.toString());
        try (Gsm8kTokens tokens = Gsm8kTokens.load(model, dev.delora.djl.hf.decoder.GenerationConfig.none())) {
            assertEquals(
                    "<|im_start|>system\nbe brief<|im_end|>\n<|im_start|>user\n1+2?<|im_end|>\n"
                            + "<|im_start|>assistant\n",
                    tokens.prompt("1+2?"));
            assertTrue(tokens.promptFormat().contains("tokenizer_config.json"), tokens.promptFormat());
        }
    }

    @Test
    void badOptionsAreOneLineErrors() throws IOException {
        Path model = tinyModel();
        assertUserError(run("gsm8k", "--model", model.toString(), "--epochs", "0"), "--epochs must be >= 1, got 0");
        assertUserError(run("gsm8k", "--model", model.toString(), "--method", "nope"), "--method");
        assertUserError(run("gsm8k", "--model", tmp.resolve("missing").toString()), "no such folder");
        // a hub id is looked up in the hub cache; tests run offline, so an uncached one is named with the cache
        assertUserError(run("gsm8k", "--model", "nobody/no-such-model"), "'nobody/no-such-model'");
        assertUserError(run("gsm8k", "--model", model.toString(), "--data-dir", tmp.toString()), "lacks train.jsonl");
        assertUserError(run("gsm8k", "--model", model.toString(), "--lr", "0"), "--lr must be");
        assertUserError(run("gsm8k", "--model", model.toString(), "--adapter-field", "r=0"), "r");
        assertUserError(
                run("gsm8k", "--model", Fixtures.dir("decoders/tiny-llama").toString()), "lacks tokenizer.json");
        Run missing = run("gsm8k");
        assertEquals(2, missing.status);
        assertTrue(missing.err.contains("--model"), missing.err);
    }

    @Test
    void everyRegisteredMethodHasValidDefaults() {
        for (String method : AdapterMethods.names()) {
            Gsm8kSettings s = new Gsm8kSettings(method, Map.of(), 1e-3, 1, 1, 1, 1, 8, 1, 0);
            assertEquals(8, s.adapterConfig().r(), method);
        }
    }

    private static void assertUserError(Run r, String part) {
        assertEquals(2, r.status, r.err);
        assertEquals(1, r.err.strip().lines().count(), r.err);
        assertTrue(r.err.startsWith("error: ") && r.err.contains(part), r.err);
    }

    private record Run(int status, String err) {}

    private static Run run(String... args) {
        CommandLine cli = Main.commandLine();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(new StringWriter(), true));
        cli.setErr(new PrintWriter(err, true));
        int status = cli.execute(args);
        return new Run(status, err.toString());
    }

    private Path tinyModel() throws IOException {
        return TinyChatModel.folder(tmp.resolve("model"));
    }

    /** 8 train and 4 test problems of one-digit sums. */
    private Path data() throws IOException {
        Path dir = tmp.resolve("data");
        Files.createDirectories(dir);
        StringBuilder train = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            train.append(problem(i % 4, 1));
        }
        StringBuilder test = new StringBuilder();
        for (int i = 0; i < 4; i++) {
            test.append(problem(i, 2));
        }
        Files.writeString(dir.resolve("train.jsonl"), train);
        Files.writeString(dir.resolve("test.jsonl"), test);
        return dir;
    }

    private static String problem(int a, int b) {
        return "{\"question\": \"" + a + "+" + b + "?\", \"answer\": \"" + a + "+" + b + "=" + (a + b) + "\\n#### "
                + (a + b) + "\"}\n";
    }
}
