package dev.delora.examples.robustness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.delora.examples.glue.GlueTask;
import dev.delora.examples.glue.Presets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The {@code robustness} command's user errors (one line naming the option, exit 2, nothing created, no model
 * loaded: the runs pass {@code --model /nonexistent}), and the small pieces of the grid that need no training.
 */
class RobustnessOptionsTest {

    @TempDir
    Path tmp;

    private RobustnessCommandTest.Run robustness(String... more) throws IOException {
        Path data = RobustnessCommandTest.sst2Folder(tmp.resolve("SST-2"));
        List<String> args = new ArrayList<>(List.of(
                "robustness",
                "--task",
                "sst2",
                "--data-dir",
                data.toString(),
                "--output",
                tmp.resolve("out").toString()));
        args.addAll(List.of(more));
        if (!args.contains("--model")) {
            args.addAll(List.of("--model", "/nonexistent"));
        }
        return RobustnessCommandTest.run(args.toArray(String[]::new));
    }

    static Stream<Arguments> badValues() {
        return Stream.of(
                Arguments.of(List.of("--lr-multipliers", "1,0"), "--lr-multipliers must be > 0, got 0.0"),
                Arguments.of(List.of("--lr-multipliers=-2"), "--lr-multipliers must be > 0, got -2.0"),
                Arguments.of(List.of("--lr-multipliers", "Infinity"), "--lr-multipliers must be finite, got Infinity"),
                Arguments.of(
                        List.of("--lr-multipliers", "1,4,1"),
                        "--lr-multipliers must list distinct multipliers, got 1 twice"),
                Arguments.of(List.of("--methods", ""), "--methods must list at least one method, got none"),
                Arguments.of(List.of("--methods", "lora,LoRA"), "--methods must list distinct methods, got lora twice"),
                Arguments.of(
                        List.of("--methods", "lora,dora", "--base-lr", "delora=1e-3"),
                        "--base-lr delora: not one of --methods (lora, dora)"),
                Arguments.of(List.of("--base-lr", "lora=0"), "--base-lr lora must be > 0, got 0.0"),
                Arguments.of(List.of("--track-distance", "0"), "--track-distance must be >= 1, got 0"),
                Arguments.of(List.of("--epochs", "0"), "--epochs must be >= 1, got 0"),
                Arguments.of(List.of("--seeds", "42,42"), "--seeds must list distinct seeds, got 42 twice"),
                Arguments.of(
                        List.of("--model", "/nonexistent"),
                        "--model /nonexistent: no such folder (expected 'embedded', a Hugging Face model folder or "
                                + "a hub id such as FacebookAI/roberta-base)"));
    }

    @ParameterizedTest
    @MethodSource("badValues")
    void aBadValueIsOneLineNamingTheOption(List<String> args, String message) throws IOException {
        RobustnessCommandTest.Run r = robustness(args.toArray(String[]::new));
        assertEquals(List.of("error: " + message), r.errLines(), r.err());
        assertEquals(2, r.status());
        assertFalse(Files.exists(tmp.resolve("out")), "nothing created");
    }

    @Test
    void anUnknownMethodListsTheKnownOnes() throws IOException {
        RobustnessCommandTest.Run r = robustness("--methods", "lora,lorax");
        assertEquals(2, r.status(), r.err());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith("error: --methods: Unknown adapter method 'lorax'; expected one of ["), r.err());
        assertTrue(
                r.err().contains("delora")
                        && r.err().contains("dora")
                        && r.err().contains("sora"),
                r.err());
    }

    @Test
    void anOutputThatIsAFileAndAnUnknownTaskAreRefused() throws IOException {
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        RobustnessCommandTest.Run r = RobustnessCommandTest.run(
                "robustness",
                "--task",
                "sst2",
                "--embedded-sample",
                "--model",
                "embedded",
                "--output",
                file.toString());
        assertEquals(List.of("error: --output " + file + " is a file, expected a folder"), r.errLines());
        r = RobustnessCommandTest.run("robustness", "--task", "sst3");
        assertEquals(2, r.status());
        assertTrue(r.err().startsWith("error: --task: Unknown GLUE task 'sst3'; known tasks: cola, sst2"), r.err());
        r = RobustnessCommandTest.run("robustness");
        assertEquals(List.of("error: Missing required option: '--task=<task>' (see --help)"), r.errLines());
    }

    @Test
    void cellsAreNamedByMethodMultiplierAndSeedAndRunSeedBySeed() {
        GridSpec spec = new GridSpec(
                GlueTask.MRPC,
                "embedded",
                "embedded",
                null,
                64,
                10,
                Map.of("lora", Presets.of(GlueTask.MRPC, "lora")),
                List.of(0.5, 4.0),
                List.of(42, 43));
        assertEquals(
                List.of("lora-x0.5-seed42", "lora-x4-seed42", "lora-x0.5-seed43", "lora-x4-seed43"),
                spec.cells().stream().map(GridCell::id).toList());
        assertEquals(4e-4 * 4, spec.cells().get(1).lr(), 1e-18);
        assertEquals("0.0016", GridCell.lrText(4e-4 * 4));
        assertEquals("5.000e+05", GridCell.lrText(5e5));
        assertEquals("16", GridCell.multiplierText(16.0));
    }

    @Test
    void theLog2AxisIsLabelledAtPowersOfTwoOnly() {
        assertEquals("×1", RobustnessCharts.powerOfTwoLabel(0));
        assertEquals("×16", RobustnessCharts.powerOfTwoLabel(RobustnessCharts.log2(16)));
        assertEquals("×0.5", RobustnessCharts.powerOfTwoLabel(-1));
        assertEquals("", RobustnessCharts.powerOfTwoLabel(0.5));
    }

    @Test
    void aCellJsonCountsOnlyForItsOwnCell() throws IOException {
        GridCell cell = new GridCell("lora", 4, 0.0016, 42);
        CellResult result = new CellResult("lora", 4, 0.0016, 42, "accuracy", 0.75, 2, 1.5, 3.0, null);
        Path file = Files.writeString(tmp.resolve("cell.json"), RobustnessGrid.GSON.toJson(result));
        assertEquals(result, RobustnessGrid.read(file, cell, "accuracy"));
        assertNull(RobustnessGrid.read(file, new GridCell("lora", 4, 0.0016, 43), "accuracy"), "another seed");
        assertNull(RobustnessGrid.read(file, new GridCell("lora", 4, 0.002, 42), "accuracy"), "another rate");
        assertNull(RobustnessGrid.read(file, new GridCell("dora", 4, 0.0016, 42), "accuracy"), "another method");
        assertNull(RobustnessGrid.read(file, cell, "matthews_correlation"), "another metric");
        Files.writeString(file, "{\"method\": \"lora\", \"multipl");
        assertNull(RobustnessGrid.read(file, cell, "accuracy"), "truncated");
        assertNull(RobustnessGrid.read(tmp.resolve("none.json"), cell, "accuracy"), "missing");
        assertNotNull(result.describe());
        assertEquals(
                "lora x4 seed 42: accuracy 75.00 at best validation epoch 2, final distance 1.5000, 3.0 s",
                result.describe());
    }
}
