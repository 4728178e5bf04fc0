package dev.delora.core.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import dev.delora.core.Dense;
import dev.delora.core.LinearAdapter;
import dev.delora.core.target.TargetSpec;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** LoRA's ΔW = (α/r)·B·A (or α/√r) and its forward, against dense math in doubles. */
class LoraAdapterTest {

    private NDManager manager;
    private final Random rnd = new Random(11);

    @BeforeEach
    void setUp() {
        Engine.getInstance().setRandomSeed(5);
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private void checkDelta(boolean rslora) {
        int in = 12;
        int out = 10;
        int r = 4;
        float alpha = 8;
        LoraConfig config = LoraConfig.builder()
                .r(r)
                .loraAlpha(alpha)
                .useRslora(rslora)
                .targetModules("q")
                .build();
        try (LinearAdapter adapter = config.create("q", manager.zeros(new Shape(out, in)), manager)) {
            double[][] a = Dense.asFloat(Dense.random(rnd, r, in));
            double[][] b = Dense.asFloat(Dense.random(rnd, out, r));
            Dense.assign(adapter.parameters().get(LoraAdapter.A).getArray(), a);
            Dense.assign(adapter.parameters().get(LoraAdapter.B).getArray(), b);
            double scaling = rslora ? alpha / Math.sqrt(r) : alpha / (double) r;
            double[][] delta = Dense.matmul(b, a);
            for (double[] row : delta) {
                for (int j = 0; j < in; j++) {
                    row[j] *= scaling;
                }
            }
            assertTrue(Dense.maxAbsDiff(delta, adapter.deltaWeight()) < 1e-5);

            double[][] x = Dense.asFloat(Dense.random(rnd, 4, in));
            NDArray y = adapter.forward(Dense.toArray(manager, x), Parameter::getArray, false);
            assertTrue(Dense.maxAbsDiff(Dense.matmul(x, Dense.transpose(delta)), y) < 1e-5);
        }
    }

    @Test
    void deltaAndForwardMatchScaledProduct() {
        checkDelta(false);
    }

    @Test
    void rsloraScalesBySquareRootOfRank() {
        checkDelta(true);
    }

    @Test
    void defaultInitIsKaimingUniformAWithZeroB() {
        int in = 400;
        LoraConfig config = LoraConfig.builder().r(8).targetModules("q").build();
        try (LinearAdapter adapter = config.create("q", manager.zeros(new Shape(30, in)), manager)) {
            NDArray a = adapter.parameters().get(LoraAdapter.A).getArray();
            float bound = (float) (1 / Math.sqrt(in));
            assertTrue(a.abs().max().getFloat() <= bound);
            // U(-b, b) has variance b²/3: check the sample variance of 3200 draws within 10 %
            double var = a.square().mean().getFloat();
            assertEquals(bound * bound / 3, var, 0.1 * bound * bound / 3);
            assertEquals(
                    0f,
                    adapter.parameters()
                            .get(LoraAdapter.B)
                            .getArray()
                            .abs()
                            .max()
                            .getFloat());
            assertEquals(0f, adapter.deltaWeight().abs().max().getFloat());
        }
    }

    @Test
    void rejectsInvalidConfigs() {
        TargetSpec t = TargetSpec.of("q");
        assertThrows(
                IllegalArgumentException.class, () -> new LoraConfig(0, 8, 0, false, LoraInit.DEFAULT, t, null, null));
        assertThrows(
                IllegalArgumentException.class,
                () -> new LoraConfig(8, 8, -0.1f, false, LoraInit.DEFAULT, t, null, null));
        assertThrows(
                IllegalArgumentException.class,
                () -> LoraConfig.builder()
                        .targetModules("q")
                        .rankPattern("q", 0)
                        .build());
        assertThrows(
                IllegalArgumentException.class,
                () -> LoraConfig.builder().targetModulesRegex("(unclosed").build());
    }
}
