package dev.delora.benchmarks;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.NormalInitializer;
import dev.delora.djl.peft.AdaptedModel;
import java.util.List;

/**
 * Section 1: one {@code Linear(dim → dim)} (frozen, with bias), plain or adapted, and an input {@code [batch, seq,
 * dim]} that requires a gradient, as inside a network. One step is forward, {@code sum}, backward: the plain layer
 * computes only the input gradient, an adapted one also its adapter's gradients. {@code bench_peft.py} does the same
 * in torch. Shared by {@link BenchmarkMain} and {@link AdaptedLinearBenchmark}, so both time the same work.
 */
public final class LayerCase implements AutoCloseable {

    private final NDManager manager;
    private final Block layer;
    private final NDArray x;

    private LayerCase(NDManager manager, Block layer, NDArray x) {
        this.manager = manager;
        this.layer = layer;
        this.x = x;
    }

    /**
     * Builds a case.
     *
     * @param method the adapter, or {@link MethodSpec#BASE} for the plain frozen Linear
     * @param batch batch size
     * @param seq sequence length
     * @param dim input and output width
     * @param r adapter rank
     * @return the case; close it to free its arrays
     */
    public static LayerCase create(MethodSpec method, int batch, int seq, int dim, int r) {
        Engine.getInstance().setRandomSeed(42);
        NDManager manager = NDManager.newBaseManager();
        SequentialBlock net =
                new SequentialBlock().add(Linear.builder().setUnits(dim).build());
        net.setInitializer(new NormalInitializer(0.02f), ai.djl.nn.Parameter.Type.WEIGHT);
        net.initialize(manager, DataType.FLOAT32, new Shape(1, dim));
        net.freezeParameters(true);
        Block layer = net.getChildren().get(0).getValue();
        if (!method.isBase()) {
            AdaptedModel peft = AdaptedModel.inject(net, method.config(r, List.of("Linear"), List.of()));
            layer = peft.adaptedModules().values().iterator().next();
        }
        NDArray x = manager.randomNormal(new Shape(batch, seq, dim));
        x.setRequiresGradient(true);
        return new LayerCase(manager, layer, x);
    }

    /** One forward + backward; every temporary dies with the step's manager. */
    public void step() {
        try (NDManager step = manager.newSubManager();
                GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            // lent to the step: results join their first operand's manager and must die with the step
            x.tempAttach(step);
            NDArray y = layer.forward(new ParameterStore(step, false), new NDList(x), true)
                    .singletonOrThrow();
            gc.backward(y.sum());
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
