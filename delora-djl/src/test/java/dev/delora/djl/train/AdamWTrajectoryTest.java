package dev.delora.djl.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import dev.delora.core.method.ParameterGroup;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Reproduces 6 steps of torch AdamW + get_linear_schedule_with_warmup + clip_grad_norm_ recorded by training.py. */
class AdamWTrajectoryTest {

    @Test
    void matchesTorchTrajectory() {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            Map<String, NDArray> f = TrainFixtures.tensors(manager, "adamw_trajectory.safetensors");
            Parameter w = TrainFixtures.parameter("w", f.get("w0"));
            Parameter b = TrainFixtures.parameter("b", f.get("b0"));
            Parameter lam = TrainFixtures.parameter("lam", f.get("lam0"));
            Map<String, Parameter> params = new LinkedHashMap<>();
            params.put("model.w", w);
            params.put("model.b", b);
            params.put("model.lam", lam);
            // Same groups as the script: {w, lam} at lr 0.05 with decay 0.01; {b} at the base lr 0.1 without decay.
            ParameterGroups groups = ParameterGroups.builder()
                    .add(ParameterGroup.withLr("own_lr", n -> !n.endsWith(".b"), 0.05, 0.01))
                    .fallback(ParameterGroup.atBaseLr("no_decay", n -> true, 0.0))
                    .build();
            LinearWarmupDecay schedule = new LinearWarmupDecay(2, 6);
            float[] lrs = f.get("lr").toFloatArray();
            float[] norms = f.get("grad_norm").toFloatArray();
            float[] losses = f.get("loss").toFloatArray();
            try (GroupedAdamW opt = GroupedAdamW.create(params, groups, 0.1)) {
                assertEquals(2, opt.groups().size());
                for (int t = 0; t < 6; t++) {
                    double loss;
                    try (NDManager step = manager.newSubManager();
                            GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                        NDArray x = f.get("x").get(new NDIndex(t));
                        NDArray y = f.get("y").get(new NDIndex(t));
                        x.attach(step);
                        y.attach(step);
                        NDArray pred = x.matMul(w.getArray().transpose())
                                .add(b.getArray())
                                .mul(lam.getArray());
                        NDArray l = pred.sub(y).square().mean();
                        loss = l.getFloat();
                        gc.backward(l);
                    }
                    assertEquals(losses[t], loss, 1e-5 * Math.abs(losses[t]), "loss at step " + t);
                    double norm = GradientClipping.clipGradNorm(List.of(w, b, lam), 1.0);
                    assertEquals(norms[t], norm, 1e-5 * norms[t], "grad norm at step " + t);
                    double factor = schedule.factor(t);
                    assertEquals(lrs[2 * t], opt.learningRate(0, factor), 1e-7, "group 0 lr at step " + t);
                    assertEquals(lrs[2 * t + 1], opt.learningRate(1, factor), 1e-7, "group 1 lr at step " + t);
                    opt.step(factor);
                    assertArrayEquals(
                            f.get("w").get(new NDIndex(t)).toFloatArray(),
                            w.getArray().toFloatArray(),
                            1e-6f,
                            "w after step " + t);
                    assertArrayEquals(
                            f.get("b").get(new NDIndex(t)).toFloatArray(),
                            b.getArray().toFloatArray(),
                            1e-6f,
                            "b after step " + t);
                    assertArrayEquals(
                            f.get("lam").get(new NDIndex(t)).toFloatArray(),
                            lam.getArray().toFloatArray(),
                            1e-6f,
                            "lam after step " + t);
                    // The step zeroed every gradient (DJL's collector accumulates otherwise).
                    assertEquals(0f, w.getArray().getGradient().abs().sum().getFloat());
                }
                // Step 0 ran at lr 0, yet advanced the moments: torch's trajectory only matches if it did.
                assertEquals(6, opt.steps());
            }
        }
    }
}
