package dev.delora.djl.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import dev.delora.core.sora.SoraGateOptimizer;
import dev.delora.core.sora.SoraThreshold;
import dev.delora.djl.tree.BlockTree;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AdapterTrainerTest {

    private static final int IN = 5;
    private static final double[] TRUE_W = {1.5, -2.0, 0.5, 3.0, -1.0};

    /** Host-side batch description: rows of a fixed synthetic regression set. */
    record Rows(float[] x, float[] y, int n) {}

    private static Rows rows(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n * IN];
        float[] y = new float[n];
        for (int i = 0; i < n; i++) {
            double t = 0.7;
            for (int j = 0; j < IN; j++) {
                x[i * IN + j] = (float) r.nextGaussian();
                t += TRUE_W[j] * x[i * IN + j];
            }
            y[i] = (float) (t + 0.01 * r.nextGaussian());
        }
        return new Rows(x, y, n);
    }

    private static AdapterTrainer.Batch toBatch(NDManager m, Rows rows) {
        return new AdapterTrainer.Batch(
                new NDList(m.create(rows.x(), new Shape(rows.n(), IN))),
                m.create(rows.y(), new Shape(rows.n(), 1)),
                rows.n());
    }

    private static NDArray mse(NDList out, NDArray labels) {
        return out.singletonOrThrow().sub(labels).square().mean();
    }

    private static Block linear(NDManager manager) {
        Block b = Linear.builder().setUnits(1).build();
        b.initialize(manager, DataType.FLOAT32, new Shape(1, IN));
        return b;
    }

    @Test
    void lowersLossEvaluatesEachEpochAndTracksBest() {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            ai.djl.engine.Engine.getInstance().setRandomSeed(3);
            Block model = linear(manager);
            List<Rows> batches = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                batches.add(rows(16, 100 + i));
            }
            Rows val = rows(64, 7);
            List<Double> seen = new ArrayList<>();
            List<Integer> bestCalls = new ArrayList<>();
            try (GroupedAdamW opt = GroupedAdamW.create(
                    BlockTree.parameters(model), ParameterGroups.standard(0.0).build(), 0.3)) {
                TrainerSettings cfg = TrainerSettings.builder()
                        .epochs(10)
                        .selectionMetric("neg_mse")
                        .progress(false)
                        .build();
                AdapterTrainer<Rows> trainer = new AdapterTrainer<Rows>(model, opt, AdapterTrainerTest::mse, cfg)
                        .evaluator(epoch -> {
                            try (NDManager m = manager.newSubManager()) {
                                NDArray pred = model.forward(
                                                new ParameterStore(m, false),
                                                new NDList(m.create(val.x(), new Shape(val.n(), IN))),
                                                false)
                                        .singletonOrThrow();
                                double v = -pred.sub(m.create(val.y(), new Shape(val.n(), 1)))
                                        .square()
                                        .mean()
                                        .getFloat();
                                seen.add(v);
                                Map<String, Double> metrics = new java.util.LinkedHashMap<>();
                                for (String k : new String[] {"neg_mse", "z", "a", "m"}) { // an order no hash keeps
                                    metrics.put(k, k.equals("neg_mse") ? v : 0.0);
                                }
                                return metrics;
                            }
                        })
                        .onNewBest((epoch, metrics) -> bestCalls.add(epoch));
                AdapterTrainer.Result res = trainer.fit(batches, AdapterTrainerTest::toBatch);
                assertEquals(80, res.steps());
                assertEquals(10, seen.size(), "one evaluation per epoch");
                int argmax = 0;
                for (int i = 1; i < seen.size(); i++) {
                    if (seen.get(i) > seen.get(argmax)) {
                        argmax = i;
                    }
                }
                assertEquals(argmax, res.bestEpoch());
                assertEquals(
                        List.of("neg_mse", "z", "a", "m"),
                        List.copyOf(res.epochs().get(0).metrics().keySet()),
                        "metrics keep the evaluator's order (GLUE reports its first metric first)");
                assertEquals(seen.get(argmax), res.bestMetrics().get("neg_mse"));
                assertEquals(bestCalls.get(bestCalls.size() - 1), res.bestEpoch());
                double first = res.stepLosses().get(0);
                double last = res.stepLosses().get(res.stepLosses().size() - 1);
                assertTrue(last < first / 20, "loss " + first + " -> " + last);
                assertTrue(-seen.get(seen.size() - 1) < 0.5, "validation mse " + -seen.get(seen.size() - 1));
            }
        }
    }

    @Test
    void accumulationOfTwoMicroBatchesEqualsOneConcatenatedBatch() {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            Block a = linear(manager);
            Block b = linear(manager);
            Map<String, Parameter> pa = BlockTree.parameters(a);
            Map<String, Parameter> pb = BlockTree.parameters(b);
            for (String k : pa.keySet()) {
                pb.get(k).getArray().set(pa.get(k).getArray().toFloatArray());
            }
            Rows r1 = rows(4, 1);
            Rows r2 = rows(4, 2);
            float[] x = new float[8 * IN];
            float[] y = new float[8];
            System.arraycopy(r1.x(), 0, x, 0, 4 * IN);
            System.arraycopy(r2.x(), 0, x, 4 * IN, 4 * IN);
            System.arraycopy(r1.y(), 0, y, 0, 4);
            System.arraycopy(r2.y(), 0, y, 4, 4);
            Rows both = new Rows(x, y, 8);
            // warmupRatio 0 so the single step runs at the full lr; clipping on to cover it with accumulation.
            TrainerSettings.Builder cfg =
                    TrainerSettings.builder().warmupRatio(0).maxGradNorm(0.5).progress(false);
            try (GroupedAdamW oa = GroupedAdamW.create(
                            pa, ParameterGroups.standard(0.01).build(), 0.05);
                    GroupedAdamW ob = GroupedAdamW.create(
                            pb, ParameterGroups.standard(0.01).build(), 0.05)) {
                new AdapterTrainer<Rows>(
                                a,
                                oa,
                                AdapterTrainerTest::mse,
                                cfg.gradientAccumulation(2).build())
                        .fit(List.of(r1, r2), AdapterTrainerTest::toBatch);
                new AdapterTrainer<Rows>(
                                b,
                                ob,
                                AdapterTrainerTest::mse,
                                cfg.gradientAccumulation(1).build())
                        .fit(List.of(both), AdapterTrainerTest::toBatch);
                assertEquals(1, oa.steps());
                assertEquals(1, ob.steps());
                for (String k : pa.keySet()) {
                    float[] before = pa.get(k).getArray().toFloatArray();
                    assertArrayEquals(pb.get(k).getArray().toFloatArray(), before, 1e-6f, k);
                }
                // And the step moved the weights (lr 0.05, full factor): the comparison is not between two no-ops.
                assertTrue(Math.abs(oa.moments(pa.get("weight"))[0].abs().sum().getFloat()) > 0);
            }
        }
    }

    @Test
    void nativeMemoryStaysFlatOver200Steps() {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            Block model = linear(manager);
            NDManager system = manager.getParentManager();
            manager.cap(); // anything a step attached to the model's manager would now throw
            List<Rows> batches = new ArrayList<>();
            for (int i = 0; i < 210; i++) {
                batches.add(rows(8, i));
            }
            int[] counts = new int[2];
            try (GroupedAdamW opt = GroupedAdamW.create(
                            BlockTree.parameters(model),
                            ParameterGroups.standard(0.01).build(),
                            0.01);
                    SoraGateOptimizer gateOpt = new SoraGateOptimizer(
                            List.of(BlockTree.parameters(model).get("bias")), 0.01, 1e-3, SoraThreshold.REFERENCE)) {
                TrainerSettings cfg = TrainerSettings.builder()
                        .maxGradNorm(1.0)
                        .progress(false)
                        .build();
                NDArray bias = BlockTree.parameters(model).get("bias").getArray();
                new AdapterTrainer<Rows>(model, opt, AdapterTrainerTest::mse, cfg)
                        .extraLoss(m -> SoraGateOptimizer.l1Penalty(List.of(bias), 0.1, m))
                        .afterStep((step, factor) -> {
                            gateOpt.step(factor);
                            if (step == 9) {
                                counts[0] = system.getManagedArrays().size();
                            } else if (step == 209) {
                                counts[1] = system.getManagedArrays().size();
                            }
                        })
                        .fit(batches, AdapterTrainerTest::toBatch);
                assertTrue(counts[0] > 0);
                assertEquals(counts[0], counts[1], "live NDArrays after step 10 vs step 210");
            }
        }
    }

    @Test
    void rejectsMissingSelectionMetricAndBadConfig() {
        assertThrows(
                IllegalArgumentException.class,
                () -> TrainerSettings.builder().gradientAccumulation(0).build());
        assertThrows(
                IllegalArgumentException.class,
                () -> TrainerSettings.builder().maxGradNorm(-1).build());
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            Block model = linear(manager);
            try (GroupedAdamW opt = GroupedAdamW.create(
                    BlockTree.parameters(model), ParameterGroups.standard(0.0).build(), 0.1)) {
                AdapterTrainer<Rows> t = new AdapterTrainer<Rows>(
                                model,
                                opt,
                                AdapterTrainerTest::mse,
                                TrainerSettings.builder()
                                        .progress(false)
                                        .selectionMetric("f1")
                                        .build())
                        .evaluator(e -> Map.of("accuracy", 1.0));
                IllegalStateException e = assertThrows(
                        IllegalStateException.class, () -> t.fit(List.of(rows(4, 1)), AdapterTrainerTest::toBatch));
                assertTrue(e.getMessage().contains("f1") && e.getMessage().contains("accuracy"), e.getMessage());
            }
        }
    }

    @Test
    void aNonFiniteLossStopsTrainingBeforeItReachesTheWeights() {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            Block model = linear(manager);
            List<Rows> batches = List.of(rows(8, 1), rows(8, 2), rows(8, 3));
            float[][] afterStep = new float[1][];
            int[] calls = {0};
            try (GroupedAdamW opt = GroupedAdamW.create(
                    BlockTree.parameters(model), ParameterGroups.standard(0.0).build(), 0.1)) {
                TrainerSettings cfg =
                        TrainerSettings.builder().epochs(1).progress(false).build();
                AdapterTrainer<Rows> trainer = new AdapterTrainer<Rows>(
                                model,
                                opt,
                                (out, labels) -> {
                                    NDArray l = mse(out, labels);
                                    // the third micro-batch diverges: NaN · loss keeps the graph but poisons the value
                                    return ++calls[0] == 3
                                            ? l.mul(l.getManager()
                                                    .create(Float.NaN)
                                                    .duplicate())
                                            : l;
                                },
                                cfg)
                        .afterStep((step, factor) -> afterStep[0] =
                                model.getParameters().valueAt(0).getArray().toFloatArray());
                IllegalStateException e = assertThrows(
                        IllegalStateException.class, () -> trainer.fit(batches, AdapterTrainerTest::toBatch));
                assertTrue(
                        e.getMessage().contains("NaN")
                                && e.getMessage().contains("step 3")
                                && e.getMessage().contains("maxGradNorm"),
                        e.getMessage());
                assertArrayEquals(
                        afterStep[0],
                        model.getParameters().valueAt(0).getArray().toFloatArray(),
                        "the weights keep the last finite step");
            }
        }
    }
}
