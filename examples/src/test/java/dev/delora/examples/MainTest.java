package dev.delora.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/**
 * The command line's user errors: every option is checked before a model or data is loaded, and a bad value prints
 * one line naming the option, the value and what is expected, then exits 2; {@code --debug} adds the stack trace.
 * The runs pass {@code --model /nonexistent}, so an option error proves the option was checked before the model, and
 * an {@code --output} folder that a started run would create.
 */
class MainTest {

    @TempDir
    Path tmp;

    private Path data;
    private Path out;

    /** What one run printed and returned. */
    record Run(int status, String out, String err) {
        List<String> errLines() {
            return err.lines().toList();
        }
    }

    static Run run(String... args) {
        CommandLine cli = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int status = assertTimeoutPreemptively(Duration.ofSeconds(60), () -> cli.execute(args));
        return new Run(status, out.toString(), err.toString());
    }

    @BeforeEach
    void rteFolder() throws IOException {
        data = Files.createDirectories(tmp.resolve("RTE"));
        String header = "index\tsentence1\tsentence2\tlabel\n";
        Files.writeString(data.resolve("train.tsv"), header + "0\tA .\tB .\tentailment\n", StandardCharsets.UTF_8);
        Files.writeString(data.resolve("dev.tsv"), header + "0\tC .\tD .\tnot_entailment\n", StandardCharsets.UTF_8);
        out = tmp.resolve("out");
    }

    /** {@code glue} on the RTE folder with the given arguments and a missing model, unless they name one. */
    private Run glue(String... more) {
        List<String> args = new ArrayList<>(
                List.of("glue", "--task", "rte", "--data-dir", data.toString(), "--output", out.toString()));
        args.addAll(List.of(more));
        if (!args.contains("--model")) {
            args.addAll(List.of("--model", "/nonexistent"));
        }
        return run(args.toArray(String[]::new));
    }

    private void assertUserError(Run r, String line) {
        assertEquals(List.of(line), r.errLines(), r.err());
        assertEquals(2, r.status(), r.err());
        assertFalse(Files.exists(out), "no run started");
    }

    static Stream<Arguments> badValues() {
        return Stream.of(
                Arguments.of(List.of("--epochs", "0"), "--epochs must be >= 1, got 0"),
                Arguments.of(List.of("--batch-size", "0"), "--batch-size must be >= 1, got 0"),
                Arguments.of(List.of("--eval-batch-size", "0"), "--eval-batch-size must be >= 1, got 0"),
                Arguments.of(List.of("--max-length", "4"), "--max-length must be >= 8, got 4"),
                Arguments.of(List.of("--max-train-samples", "0"), "--max-train-samples must be >= 1, got 0"),
                Arguments.of(List.of("--r", "0"), "--r must be >= 1, got 0"),
                Arguments.of(List.of("--lr", "0"), "--lr must be > 0, got 0.0"),
                Arguments.of(List.of("--lr=-1e-3"), "--lr must be > 0, got -0.001"),
                Arguments.of(List.of("--lr", "Infinity"), "--lr must be finite, got Infinity"),
                Arguments.of(List.of("--weight-decay=-0.1"), "--weight-decay must be >= 0, got -0.1"),
                Arguments.of(List.of("--warmup-ratio", "1.5"), "--warmup-ratio must be in [0, 1], got 1.5"),
                Arguments.of(List.of("--max-grad-norm", "0"), "--max-grad-norm must be > 0, got 0.0"),
                Arguments.of(List.of("--seeds", "42,42"), "--seeds must list distinct seeds, got 42 twice"),
                Arguments.of(
                        List.of("--seeds=-1"), "--seeds must be >= 0 (numpy's RandomState seeds the splits), got -1"),
                Arguments.of(
                        List.of("--group-lr", "delora_lambda=-1"), "--group-lr delora_lambda must be >= 0, got -1.0"),
                Arguments.of(List.of("--embedded-sample"), "--embedded-sample exists only for sst2, not rte"));
    }

    @ParameterizedTest
    @MethodSource("badValues")
    void aBadValueIsOneLineNamingTheOptionBeforeTheModelIsLookedAt(List<String> args, String message) {
        assertUserError(glue(args.toArray(String[]::new)), "error: " + message);
    }

    @Test
    void unknownTaskMethodAndDeviceNameTheOption() {
        Run r = run("glue", "--task", "cola2", "--model", "/nonexistent");
        assertUserError(
                r,
                "error: --task: Unknown GLUE task 'cola2'; known tasks: cola, sst2, mrpc, qqp, stsb, mnli, qnli, rte");
        r = glue("--method", "lorax");
        assertEquals(2, r.status());
        assertTrue(r.err().startsWith("error: --method: Unknown adapter method 'lorax'; expected one of ["), r.err());
        assertEquals(1, r.errLines().size(), r.err());
        assertUserError(glue("--device", "tpu"), "error: --device must be cpu, gpu or gpu:N, got 'tpu'");
    }

    @Test
    void modelFolderIsCheckedBeforeLoading() throws IOException {
        assertUserError(
                glue(),
                "error: --model /nonexistent: no such folder (expected 'embedded', a Hugging Face model folder or a "
                        + "hub id such as FacebookAI/roberta-base)");
        Path empty = Files.createDirectories(tmp.resolve("empty-model"));
        Files.writeString(empty.resolve("config.json"), "{}");
        assertUserError(
                glue("--model", empty.toString()),
                "error: --model " + empty + ": the folder lacks tokenizer.json, model.safetensors (or "
                        + "model.safetensors.index.json) (expected a Hugging Face model folder)");
        assertUserError(
                glue("--model", empty.resolve("config.json").toString()),
                "error: --model " + empty.resolve("config.json") + " is a file (expected 'embedded', a Hugging Face "
                        + "model folder or a hub id such as FacebookAI/roberta-base)");
    }

    @Test
    void dataDirIsCheckedBeforeLoading() throws IOException {
        Path missing = tmp.resolve("nothing");
        assertUserError(
                run("glue", "--task", "rte", "--data-dir", missing.toString(), "--model", "/nonexistent"),
                "error: --data-dir " + missing + ": no such folder (expected the task's GLUE folder, e.g. "
                        + "glue_data/RTE)");
        Files.delete(data.resolve("dev.tsv"));
        assertUserError(
                glue(),
                "error: --data-dir " + data + ": GLUE rte needs dev.tsv in " + data + " (the task folder of the "
                        + "original GLUE layout, e.g. glue_data/RTE)");
    }

    @Test
    void groupLearningRatesOfGroupsTheMethodLacksFailBeforeLoading() {
        assertUserError(
                glue("--model", "embedded", "--group-lr", "lambda=1e-3"),
                "error: --group-lr lambda: delora defines no parameter group 'lambda' (its groups: delora_lambda)");
        assertUserError(
                glue("--model", "embedded", "--method", "lora", "--group-lr", "delora_lambda=1e-3"),
                "error: --group-lr delora_lambda: lora defines no parameter group 'delora_lambda' (it defines none)");
        assertUserError(
                glue("--model", "embedded", "--method", "sora", "--group-lr", "gate=1e-3"),
                "error: --group-lr gate: sora defines no parameter group 'gate' (its groups: sora_gate)");
    }

    @Test
    void badAdapterFieldNamesTheField() {
        Run r = glue("--model", "embedded", "--adapter-field", "delora_lambda=big");
        assertEquals(2, r.status(), r.err());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith("error: ") && r.err().contains("delora_lambda"), r.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void malformedTsvNamesFileAndLineWithoutAStackTrace() throws IOException {
        Files.writeString(
                data.resolve("train.tsv"),
                "index\tsentence1\tsentence2\tlabel\n0\tA .\tB .\tentailment\n1\tC .\tmaybe\n",
                StandardCharsets.UTF_8);
        Run r = glue("--model", "embedded", "--seeds", "42");
        assertEquals(
                List.of("error: " + data.resolve("train.tsv") + ":3: wrong number of tab-separated columns for rte "
                        + "(found 3, expected 4: index | sentence1 | sentence2 | label)"),
                r.errLines(),
                r.err());
        assertEquals(2, r.status());
    }

    @Test
    void debugAddsTheStackTraceOnEitherCommand() {
        Run r = glue("--epochs", "0", "--debug");
        assertEquals(2, r.status());
        assertEquals("error: --epochs must be >= 1, got 0", r.errLines().get(0));
        assertTrue(r.errLines().get(1).startsWith("java.lang.IllegalArgumentException: --epochs"), r.err());
        assertTrue(r.err().contains("\tat dev.delora.examples.CliChecks"), r.err());

        r = run("--debug", "glue", "--task", "rte", "--model", "/nonexistent", "--lr", "0");
        assertEquals(2, r.status());
        assertEquals("error: --lr must be > 0, got 0.0", r.errLines().get(0));
        assertTrue(r.err().contains("\tat "), r.err());
    }

    @Test
    void usageErrorsAreOneLineWithAHelpHint() {
        Run r = run("glue");
        assertEquals(List.of("error: Missing required option: '--task=<task>' (see --help)"), r.errLines());
        assertEquals(2, r.status());
        r = run("glue", "--task", "rte", "--epochs", "many");
        assertEquals(
                List.of("error: Invalid value for option '--epochs': 'many' is not an int (see --help)"), r.errLines());
        assertEquals(2, r.status());
    }

    @Test
    void theDefaultJobChecksItsOptionsToo() throws IOException {
        assertEquals(
                List.of("error: --epochs must be >= 1, got 0"),
                run("--epochs", "0").errLines());
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        Run r = run("--output", file.toString());
        assertEquals(List.of("error: --output " + file + " is a file, expected a folder"), r.errLines());
        assertEquals(2, r.status());
    }
}
