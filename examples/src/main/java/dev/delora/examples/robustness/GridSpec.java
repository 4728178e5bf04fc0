package dev.delora.examples.robustness;

import dev.delora.examples.glue.GlueTask;
import dev.delora.examples.glue.Hyperparameters;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What defines a robustness grid.
 *
 * @param task the GLUE task
 * @param model the model as given ({@code embedded}, an absolute folder or a hub id)
 * @param data where the data comes from ({@code GlueOptions#dataDescription})
 * @param maxTrainSamples the training-set cut, or {@code null}
 * @param evalBatchSize the evaluation batch size
 * @param trackDistance the distance-log interval in optimizer steps
 * @param methods each method's hyperparameters at its base learning rate (multiplier 1), in grid order
 * @param multipliers the learning-rate multipliers
 * @param seeds the seeds
 */
public record GridSpec(
        GlueTask task,
        String model,
        String data,
        Integer maxTrainSamples,
        int evalBatchSize,
        int trackDistance,
        Map<String, Hyperparameters> methods,
        List<Double> multipliers,
        List<Integer> seeds) {

    /** Copies the collections. */
    public GridSpec {
        methods = Collections.unmodifiableMap(new LinkedHashMap<>(methods));
        multipliers = List.copyOf(multipliers);
        seeds = List.copyOf(seeds);
    }

    /**
     * Returns a cell of the grid.
     *
     * @param method the method
     * @param multiplier the multiplier
     * @param seed the seed
     * @return the cell, its learning rate the method's base rate × the multiplier
     */
    public GridCell cell(String method, double multiplier, int seed) {
        return new GridCell(method, multiplier, methods.get(method).lr() * multiplier, seed);
    }

    /**
     * Returns the cells in run order: seed by seed, then method, then multiplier, so that a partial grid already
     * covers every method and rate of the first seed.
     *
     * @return the cells
     */
    public List<GridCell> cells() {
        List<GridCell> cells = new ArrayList<>();
        for (int seed : seeds) {
            for (String m : methods.keySet()) {
                for (double x : multipliers) {
                    cells.add(cell(m, x, seed));
                }
            }
        }
        return cells;
    }

    /** The settings recorded in {@code grid.json}: everything but the lists that only pick cells. */
    Map<String, Object> settings() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("task", task.id());
        s.put("model", model);
        s.put("data", data);
        s.put("maxTrainSamples", maxTrainSamples);
        s.put("evalBatchSize", evalBatchSize);
        s.put("trackDistance", trackDistance);
        s.put("selectionMetric", task.selectionMetric());
        s.put("methods", methods);
        return s;
    }
}
