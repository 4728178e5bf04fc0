package dev.delora.examples.robustness;

import ai.djl.Device;
import dev.delora.core.method.AdapterMethods;
import dev.delora.examples.CliChecks;
import dev.delora.examples.GlueOptions;
import dev.delora.examples.glue.GlueTask;
import dev.delora.examples.glue.Hyperparameters;
import dev.delora.examples.glue.Presets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The {@code robustness} command: the DeLoRA paper's learning-rate robustness study (Fig. 2, Fig. 3) on one GLUE
 * task. Every method runs at its preset base learning rate times each multiplier, for every seed; the other options
 * apply to every method. Every option is checked before any model or data is loaded.
 */
@Command(
        name = "robustness",
        mixinStandardHelpOptions = true,
        description = {
            "Learning-rate robustness on a GLUE task (the DeLoRA paper's Fig. 2 and Fig. 3): every method at its "
                    + "preset base learning rate times each multiplier, for every seed, with the glue command's "
                    + "protocol. The other options apply to every method; group learning rates (DeLoRA's lambda) "
                    + "keep their preset.",
            "Each cell runs in <output>/cells/<method>-x<multiplier>-seed<seed>/ and ends by writing cell.json; a "
                    + "rerun skips the finished cells and recomputes the others. grid.json keeps the settings: a "
                    + "rerun with other settings is refused.",
            "After every cell: results.md, results.json, fig2.png/.svg (metric and final distance vs rate) and "
                    + "fig3.png/.svg (distance vs optimizer step)."
        })
public final class RobustnessCommand implements Callable<Integer> {

    @Mixin
    GlueOptions run;

    @Option(
            names = "--methods",
            split = ",",
            defaultValue = "lora,dora,delora",
            description = "Registered adapter methods (default: ${DEFAULT-VALUE}).")
    List<String> methods;

    @Option(
            names = "--lr-multipliers",
            split = ",",
            defaultValue = "1,4,16",
            description = "Multiples of each method's base learning rate (default: ${DEFAULT-VALUE}).")
    List<Double> multipliers;

    @Option(
            names = "--base-lr",
            paramLabel = "METHOD=LR",
            description = "A method's base learning rate over its preset (repeatable), e.g. lora=5e-4.")
    Map<String, Double> baseLrs = new LinkedHashMap<>();

    @Option(names = "--output", description = "Output folder (default: runs/robustness-<task>).")
    Path output;

    @Option(
            names = "--track-distance",
            defaultValue = "10",
            paramLabel = "STEPS",
            description = "Record ||W_eff - W_0||_F every STEPS optimizer steps (default: ${DEFAULT-VALUE}).")
    int trackDistance;

    @Override
    public Integer call() throws Exception {
        GlueTask t = run.task();
        List<String> names = methodNames();
        checkMultipliers();
        Map<String, Double> baseLr = new LinkedHashMap<>();
        baseLrs.forEach((m, lr) -> {
            String name = AdapterMethods.names().stream()
                    .filter(n -> n.equalsIgnoreCase(m.trim()))
                    .findFirst()
                    .orElse(m);
            if (!names.contains(name)) {
                throw new IllegalArgumentException(
                        "--base-lr " + m + ": not one of --methods (" + String.join(", ", names) + ")");
            }
            CliChecks.positive("--base-lr " + m, lr);
            baseLr.put(name, lr);
        });
        CliChecks.atLeast("--track-distance", trackDistance, 1);
        Device dev = run.checkValues(t);
        CliChecks.output(output);
        Map<String, Hyperparameters> base = new LinkedHashMap<>();
        for (String m : names) {
            Hyperparameters preset = Presets.of(t, m);
            base.put(m, run.hyperparameters(t, preset, baseLr.get(m), Map.of()));
        }
        String model = run.modelSource().spec();
        if (!"embedded".equals(model) && Files.isDirectory(Path.of(model))) {
            model = Path.of(model).toAbsolutePath().normalize().toString();
        }
        Path out = output != null ? output : Path.of("runs", "robustness-" + t.id());
        GridSpec spec = new GridSpec(
                t,
                model,
                run.dataDescription(),
                run.maxTrainSamples(),
                run.evalBatchSize(),
                trackDistance,
                base,
                multipliers,
                run.seeds());
        dev = GlueOptions.orDefault(dev);
        RobustnessGrid grid = new RobustnessGrid(spec, out, System.out);
        grid.checkSettings(); // before any download or model
        var splits = run.splits(t);
        System.out.println("robustness " + t.id() + " on " + dev + ": " + names.size() + " methods x "
                + multipliers.size() + " learning rates x " + spec.seeds().size() + " seeds = "
                + spec.cells().size() + " runs; base rates "
                + base.entrySet().stream()
                        .map(e ->
                                e.getKey() + " " + GridCell.lrText(e.getValue().lr()))
                        .toList());
        grid.run(dev, splits);
        System.out.println(grid.computed() + " cells computed, " + (spec.cells().size() - grid.computed())
                + " skipped; results: " + out.resolve("results.md").toAbsolutePath());
        return 0;
    }

    /** The canonical method names: known, distinct, at least one. */
    private List<String> methodNames() {
        if (methods == null || methods.isEmpty() || methods.stream().allMatch(String::isBlank)) {
            throw new IllegalArgumentException("--methods must list at least one method, got none");
        }
        List<String> names = new ArrayList<>();
        for (String m : methods) {
            String name = CliChecks.named(
                    "--methods", () -> AdapterMethods.byName(m.trim()).name());
            if (names.contains(name)) {
                throw new IllegalArgumentException("--methods must list distinct methods, got " + name + " twice");
            }
            names.add(name);
        }
        return names;
    }

    private void checkMultipliers() {
        if (multipliers == null || multipliers.isEmpty()) {
            throw new IllegalArgumentException("--lr-multipliers must list at least one multiplier, got none");
        }
        Set<Double> seen = new HashSet<>();
        for (Double x : multipliers) {
            CliChecks.positive("--lr-multipliers", x);
            if (!seen.add(x)) {
                throw new IllegalArgumentException("--lr-multipliers must list distinct multipliers, got "
                        + GridCell.multiplierText(x) + " twice");
            }
        }
    }
}
