package dev.delora.djl.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import dev.delora.core.sora.SoraGateOptimizer;
import dev.delora.core.sora.SoraSchedule;
import dev.delora.core.sora.SoraThreshold;
import dev.delora.core.sora.SparsityScheduler;
import java.util.List;
import org.junit.jupiter.api.Test;

class SoraGateOptimizerTest {

    private static Parameter gate(NDManager manager, float... values) {
        return TrainFixtures.parameter("gate", manager.create(values));
    }

    @Test
    void referenceThresholdZeroesBelowTwoXi() {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            Parameter g = gate(manager, 0.35f, 0.15f, 0.05f, -0.12f, -0.3f);
            try (SoraGateOptimizer opt = new SoraGateOptimizer(List.of(g), 0.0, 0.1, SoraThreshold.REFERENCE)) {
                opt.step(1.0); // lr 0: only the threshold acts
            }
            // By hand: 0.35→0.25; 0.15→0.05→0 (sequential statements); 0.05→0; −0.12→−0.02→0; −0.3→−0.2.
            assertArrayEquals(
                    new float[] {0.25f, 0f, 0f, 0f, -0.2f}, g.getArray().toFloatArray(), 1e-7f);
        }
    }

    @Test
    void textbookSoftThreshold() {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            Parameter g = gate(manager, 0.35f, 0.15f, 0.05f, -0.12f, -0.3f);
            try (SoraGateOptimizer opt = new SoraGateOptimizer(List.of(g), 0.0, 0.1, SoraThreshold.SOFT)) {
                opt.step(1.0);
            }
            assertArrayEquals(
                    new float[] {0.25f, 0.05f, 0f, -0.02f, -0.2f}, g.getArray().toFloatArray(), 1e-7f);
        }
    }

    @Test
    void adamStepThenUnscaledThreshold() {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            Parameter g = gate(manager, 0.5f, -0.5f);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                // Gradients (2, 2): d/dp Σ 2p.
                gc.backward(g.getArray().mul(2f).sum());
            }
            try (SoraGateOptimizer opt = new SoraGateOptimizer(List.of(g), 0.1, 0.1, SoraThreshold.REFERENCE)) {
                opt.step(1.0);
            }
            // By hand, t = 1, g = 2: m = 0.1·2 = 0.2; v = 0.001·4 = 0.004; step_size = 0.1·√0.001/0.1 = √0.001;
            // update = step_size · 0.2/(√0.004 + 1e-6) = 0.0316227766·3.16222766 = 0.0999984189.
            // p: 0.5 → 0.4000015811 → threshold ξ = 0.1 (not lr-scaled) → 0.3000015811; −0.5 → −0.5999984 → −0.4999984.
            assertArrayEquals(
                    new float[] {0.3000015811f, -0.4999984189f}, g.getArray().toFloatArray(), 2e-7f);
            assertEquals(0f, g.getArray().getGradient().abs().sum().getFloat());
        }
    }

    @Test
    void l1PenaltyIsLambdaTimesMeanAbs() {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            NDArray a = manager.create(new float[] {1, -2, 3});
            NDArray b = manager.create(new float[] {-4});
            // 0.5 · (1+2+3+4)/4 = 1.25
            assertEquals(
                    1.25f,
                    SoraGateOptimizer.l1Penalty(List.of(a, b), 0.5, manager).getFloat(),
                    1e-7f);
        }
    }

    @Test
    void schedulesMatchNumpy() {
        JsonObject s = TrainFixtures.json("sparsity.json");
        double xi0 = s.get("xi0").getAsDouble();
        double max = s.get("max").getAsDouble();
        int num = s.get("num").getAsInt();
        for (String kind : new String[] {"linear", "log_linear", "exp_linear"}) {
            SparsityScheduler sched = new SparsityScheduler(SoraSchedule.parse(kind), xi0, max, num);
            JsonArray ref = s.getAsJsonArray(kind);
            assertEquals(ref.get(0).getAsDouble(), sched.current(), 1e-15, kind + " start");
            for (int i = 1; i < num; i++) {
                double v = sched.step();
                assertEquals(ref.get(i).getAsDouble(), v, 1e-15 * Math.abs(v) + 1e-19, kind + "[" + i + "]");
            }
            assertEquals(ref.get(num - 1).getAsDouble(), sched.step(), 1e-15, kind + " stays on the last value");
        }
        JsonArray two = s.getAsJsonArray("linear_num2");
        double[] v = new SparsityScheduler(SoraSchedule.LINEAR, 3e-4, 1e-3, 2).values();
        assertEquals(two.get(0).getAsDouble(), v[0], 0.0);
        assertEquals(two.get(1).getAsDouble(), v[1], 0.0);
        assertThrows(IllegalArgumentException.class, () -> SoraSchedule.parse("cosine"));
        assertThrows(IllegalArgumentException.class, () -> new SparsityScheduler(SoraSchedule.EXP_LINEAR, 0, 1e-3, 3));
    }
}
