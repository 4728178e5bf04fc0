package dev.delora.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.GradientCollector;
import dev.delora.core.delora.DeloraAdapter;
import dev.delora.core.lora.LoraAdapter;
import dev.delora.core.lora.LoraConfig;
import dev.delora.fixtures.Fixtures;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Per-layer outputs, ΔW and gradients against PEFT 0.21.2 and the official DeLoRA formula (parity/deltas.py). */
class AdapterParityTest {

    private NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private NDList load(String file) throws IOException {
        try (InputStream in = Files.newInputStream(Fixtures.path("deltas/" + file))) {
            return NDList.decode(manager, in);
        }
    }

    private static NDArray get(NDList list, String name) {
        NDArray a = list.get(name);
        if (a == null) {
            throw new AssertionError("fixture has no tensor " + name);
        }
        return a;
    }

    private static float maxRelDiff(NDArray expected, NDArray actual) {
        float scale = Math.max(1f, expected.abs().max().getFloat());
        return expected.sub(actual).abs().max().getFloat() / scale;
    }

    private NDArray forward(NDList f, String p, LinearAdapter adapter) {
        NDArray x = get(f, p + "x");
        NDArray base = Linear.linear(x, get(f, p + "W"), get(f, p + "b")).singletonOrThrow();
        return base.add(adapter.forward(x, Parameter::getArray, false));
    }

    private void checkLora(String file, boolean rslora) throws IOException {
        NDList f = load(file);
        LoraConfig config = LoraConfig.builder()
                .r(4)
                .loraAlpha(8)
                .useRslora(rslora)
                .targetModules("q")
                .build();
        try (LinearAdapter adapter = config.create("q", get(f, "lora.W"), manager)) {
            adapter.parameters().get(LoraAdapter.A).getArray().set(new NDIndex(":"), get(f, "lora.A"));
            adapter.parameters().get(LoraAdapter.B).getArray().set(new NDIndex(":"), get(f, "lora.B"));
            assertEquals(get(f, "lora.scaling").getFloat(0), ((LoraAdapter) adapter).scaling(), 0f);
            assertTrue(maxRelDiff(get(f, "lora.delta"), adapter.deltaWeight()) < 1e-6);
            assertTrue(maxRelDiff(get(f, "lora.y"), forward(f, "lora.", adapter)) < 1e-5);
        }
    }

    @Test
    void loraMatchesPeft() throws IOException {
        checkLora("lora.safetensors", false);
    }

    @Test
    void rsloraMatchesPeft() throws IOException {
        checkLora("lora_rslora.safetensors", true);
    }

    private DeloraAdapter restore(NDList f, String p, boolean paper) {
        Map<String, NDArray> state = new LinkedHashMap<>();
        state.put(DeloraAdapter.A, get(f, p + "A"));
        state.put(DeloraAdapter.B, get(f, p + "B"));
        state.put(DeloraAdapter.LAMBDA, get(f, p + "lambda"));
        state.put(DeloraAdapter.W_NORM, get(f, p + "w_norm"));
        if (paper) {
            state.put(DeloraAdapter.C, get(f, p + "C"));
            state.put(DeloraAdapter.D, get(f, p + "D"));
        }
        return DeloraAdapter.restore(state, 0f, manager);
    }

    @Test
    void deloraMatchesPeft() throws IOException {
        NDList f = load("delora_peft.safetensors");
        NDArray wNorm = get(f, "delora.W").norm(new int[] {0});
        assertTrue(maxRelDiff(get(f, "delora.w_norm"), wNorm) < 1e-6, "w_norm is the column norm of W");
        try (DeloraAdapter adapter = restore(f, "delora.", false)) {
            assertTrue(maxRelDiff(get(f, "delora.delta"), adapter.deltaWeight()) < 1e-6);
            assertTrue(maxRelDiff(get(f, "delora.y"), forward(f, "delora.", adapter)) < 1e-5);
        }
    }

    @Test
    void deloraPaperModeMatchesOfficialFormulaAndGradients() throws IOException {
        NDList f = load("delora_paper.safetensors");
        try (DeloraAdapter adapter = restore(f, "paper.", true)) {
            assertTrue(maxRelDiff(get(f, "paper.delta"), adapter.deltaWeight()) < 1e-6);
            checkGradients(f, "paper.", adapter);
        }
    }

    @Test
    void deloraGradientsMatchPeftIncludingAtZeroB() throws IOException {
        for (String file : new String[] {"delora_grad.safetensors", "delora_grad_b0.safetensors"}) {
            NDList f = load(file);
            try (DeloraAdapter adapter = restore(f, "grad.", false)) {
                checkGradients(f, "grad.", adapter);
            }
        }
    }

    private void checkGradients(NDList f, String p, DeloraAdapter adapter) {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray y = forward(f, p, adapter);
            assertTrue(maxRelDiff(get(f, p + "y"), y) < 1e-5);
            gc.backward(y.sum());
        }
        Map<String, Parameter> params = adapter.parameters();
        assertTrue(maxRelDiff(
                        get(f, p + "grad_A"),
                        params.get(DeloraAdapter.A).getArray().getGradient())
                < 1e-5);
        assertTrue(maxRelDiff(
                        get(f, p + "grad_B"),
                        params.get(DeloraAdapter.B).getArray().getGradient())
                < 1e-5);
        assertTrue(maxRelDiff(
                        get(f, p + "grad_lambda"),
                        params.get(DeloraAdapter.LAMBDA).getArray().getGradient())
                < 1e-5);
    }
}
