package dev.delora.djl.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Compares with torch.nn.utils.clip_grad_norm_ recorded by training.py. */
class GradientClippingTest {

    @Test
    void matchesTorch() {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            Map<String, NDArray> f = TrainFixtures.tensors(manager, "clip.safetensors");
            for (String tag : new String[] {"m05", "m2", "m100"}) {
                double maxNorm = switch (tag) {
                    case "m05" -> 0.5;
                    case "m2" -> 2.0;
                    default -> 100.0;
                };
                List<Parameter> params = new ArrayList<>();
                try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                    NDArray total = null;
                    for (int i = 0; i < 3; i++) {
                        NDArray g = f.get("g" + i);
                        Parameter p = TrainFixtures.parameter("p" + i, g.zerosLike());
                        params.add(p);
                        // d/dp Σ p·g = g: the recorded gradient becomes p's gradient.
                        NDArray term = p.getArray().mul(g).sum();
                        total = total == null ? term : total.add(term);
                    }
                    gc.backward(total);
                }
                double norm = GradientClipping.clipGradNorm(params, maxNorm);
                assertEquals(f.get(tag + "_total").getFloat(), norm, 1e-6 * norm, tag);
                for (int i = 0; i < 3; i++) {
                    assertArrayEquals(
                            f.get(tag + "_g" + i).toFloatArray(),
                            params.get(i).getArray().getGradient().toFloatArray(),
                            1e-6f,
                            tag + " g" + i);
                }
            }
        }
    }
}
