package dev.delora.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import dev.delora.examples.glue.GlueFormatException;
import dev.delora.examples.glue.GlueTask;
import dev.delora.examples.glue.Hyperparameters;
import dev.delora.examples.glue.Presets;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** One-line error reports and their exit status; the group-name and device checks on their own. */
class ErrorReportTest {

    private static String report(Exception e, boolean debug, int status) {
        StringWriter err = new StringWriter();
        assertEquals(status, ErrorReport.print(e, new PrintWriter(err), debug), err.toString());
        return err.toString();
    }

    @Test
    void userErrorsExit2WithTheirMessage() {
        assertEquals(
                "error: data/dev.tsv:3: bad (found x, expected y)\n",
                report(new GlueFormatException("data/dev.tsv", 3, "bad (found x, expected y)"), false, 2));
        assertEquals(
                "error: no such file: /x/config.json\n", report(new NoSuchFileException("/x/config.json"), false, 2));
        assertEquals(
                "error: offline\n", report(new UncheckedIOException(new java.io.IOException("offline")), false, 2));
        assertEquals(
                "error: --lr must be > 0, got 0.0\n",
                report(new IllegalArgumentException("--lr must be > 0, got 0.0"), false, 2));
    }

    @Test
    void internalErrorsExit1NamingTheClass() {
        assertEquals(
                "error: IllegalStateException: boom (internal error; --debug prints the stack trace)\n",
                report(new IllegalStateException("boom"), false, 1));
        assertEquals(
                "error: NullPointerException (internal error; --debug prints the stack trace)\n",
                report(new NullPointerException(), false, 1));
        assertEquals("error: IllegalArgumentException\n", report(new IllegalArgumentException(), false, 2));
    }

    @Test
    void messagesAreOneLineAndCut() {
        String msg = ErrorReport.message(new IllegalArgumentException("first\n  second\r\nthird " + "x".repeat(400)));
        assertEquals(ErrorReport.MAX_MESSAGE, msg.length());
        assertTrue(msg.startsWith("first second third xxx") && msg.endsWith("..."), msg);
    }

    @Test
    void debugPrintsTheStackTraceAfterTheLine() {
        String out = report(new IllegalStateException("boom"), true, 1);
        List<String> lines = out.lines().toList();
        assertEquals("error: IllegalStateException: boom", lines.get(0));
        assertEquals("java.lang.IllegalStateException: boom", lines.get(1));
        assertTrue(lines.get(2).startsWith("\tat dev.delora.examples.ErrorReportTest"), out);
    }

    @Test
    void groupNamesTheMethodDefinesAreAccepted() {
        for (String[] methodAndGroup : new String[][] {{"delora", "delora_lambda"}, {"sora", "sora_gate"}}) {
            Hyperparameters p = Presets.of(GlueTask.RTE, methodAndGroup[0]);
            Hyperparameters hp = new Hyperparameters(
                    p.method(),
                    p.epochs(),
                    p.batchSize(),
                    p.lr(),
                    p.weightDecay(),
                    p.warmupRatio(),
                    p.maxGradNorm(),
                    p.maxLength(),
                    p.targets(),
                    p.adapterFields(),
                    Map.of(methodAndGroup[1], 1e-3));
            CliChecks.groupNames(hp, hp.adapterConfig(List.of("classifier")), List.of(methodAndGroup[1]));
        }
    }

    @Test
    void devicesParseAndAGpuMustExist() {
        assertEquals(Device.cpu(), CliChecks.device("cpu"));
        int gpus = Engine.getInstance().getGpuCount();
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> CliChecks.device("gpu:" + gpus));
        assertTrue(e.getMessage().startsWith("--device gpu:" + gpus + ": "), e.getMessage());
        if (gpus > 0) {
            assertEquals(Device.gpu(gpus - 1), CliChecks.device("gpu:" + (gpus - 1)));
            assertEquals(Device.gpu(0), CliChecks.device("gpu"));
        } else {
            assertEquals(
                    "--device gpu: no GPU is visible to the PyTorch engine; use --device cpu",
                    assertThrows(IllegalArgumentException.class, () -> CliChecks.device("gpu"))
                            .getMessage());
        }
        assertEquals(
                "--device must be cpu, gpu or gpu:N, got 'cuda:0'",
                assertThrows(IllegalArgumentException.class, () -> CliChecks.device("cuda:0"))
                        .getMessage());
    }
}
