package dev.delora.core.sora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import dev.delora.core.LinearAdapter;
import dev.delora.core.LoraFactors;
import dev.delora.core.array.ArrayOps;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A SoRA branch {@code Δy = scaling · B (g ⊙ A · dropout(x))}: A {@code [r, in]} kaiming-uniform, B {@code [out, r]}
 * zero, gate g {@code [1, r]} ~ N(0, 1), as the reference's {@code LowRankLinear}.
 *
 * <p>{@link #toLora()} prunes: it keeps the ranks whose gate is not exactly zero and folds g into B, an exact plain
 * LoRA
 * of rank {@code nnz(g)}.
 */
public final class SoraAdapter implements LinearAdapter {

    /** State-dict key of A. */
    public static final String A = "lora_A.weight";
    /** State-dict key of B. */
    public static final String B = "lora_B.weight";
    /** State-dict key of the gate; optimizers recognise gates by this name. */
    public static final String GATE = "lora_gate";

    private final Parameter a;
    private final Parameter b;
    private final Parameter gate;
    private final float scaling;
    private final NDArray scalingArray;
    private final float dropout;

    private SoraAdapter(Parameter a, Parameter b, Parameter gate, float scaling, float dropout) {
        this.a = a;
        this.b = b;
        this.gate = gate;
        this.scaling = scaling;
        this.scalingArray = ArrayOps.constant(a.getArray().getManager(), scaling);
        this.dropout = dropout;
    }

    static SoraAdapter initialise(int r, float scaling, float dropout, Shape weightShape, NDManager manager) {
        long out = weightShape.get(0);
        long in = weightShape.get(1);
        return new SoraAdapter(
                ArrayOps.trainable(A, ArrayOps.kaimingUniform(manager, new Shape(r, in))),
                ArrayOps.trainable(B, manager.zeros(new Shape(out, r), DataType.FLOAT32)),
                ArrayOps.trainable(GATE, manager.randomNormal(new Shape(1, r))),
                scaling,
                dropout);
    }

    /**
     * Returns the scaling applied to {@code B·diag(g)·A}.
     *
     * @return α/r
     */
    public float scaling() {
        return scaling;
    }

    /**
     * Returns the gate parameter {@code [1, r]}.
     *
     * @return the gate
     */
    public Parameter gate() {
        return gate;
    }

    /**
     * Counts the gates that are not exactly zero: the rank this module keeps after pruning.
     *
     * @return nnz(g)
     */
    public int liveRank() {
        return liveIndices().size();
    }

    private List<Long> liveIndices() {
        float[] g = gate.getArray().toFloatArray();
        List<Long> live = new ArrayList<>();
        for (int i = 0; i < g.length; i++) {
            if (g[i] != 0f) {
                live.add((long) i);
            }
        }
        return live;
    }

    @Override
    public Map<String, Parameter> parameters() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        m.put(A, a);
        m.put(B, b);
        m.put(GATE, gate);
        return m;
    }

    @Override
    public Map<String, NDArray> buffers() {
        return Map.of();
    }

    @Override
    public NDArray forward(NDArray x, Function<Parameter, NDArray> values, boolean training) {
        NDArray h = ArrayOps.dropout(x, dropout, training);
        NDArray g = values.apply(gate);
        NDArray scaledGate = ArrayOps.inStepScope(x, () -> new NDList(g.mul(ArrayOps.onDevice(scalingArray, x))))
                .head();
        NDArray t = Linear.linear(h, values.apply(a)).singletonOrThrow().mul(scaledGate);
        return Linear.linear(t, values.apply(b)).singletonOrThrow();
    }

    @Override
    public LoraFactors toLora() {
        NDArray av = a.getArray();
        NDArray bv = b.getArray();
        List<Long> live = liveIndices();
        if (live.isEmpty()) {
            // every rank was pruned: ΔW = 0, kept as a rank-1 LoRA with zero B so the adapter stays loadable
            NDManager m = av.getManager();
            return new LoraFactors(
                    m.zeros(new Shape(1, av.getShape().get(1))),
                    m.zeros(new Shape(bv.getShape().get(0), 1)),
                    scaling);
        }
        long[] kept = live.stream().mapToLong(Long::longValue).toArray();
        // the index and the gathered intermediates die in the scope; only the two factors are kept
        NDList f = ArrayOps.inStepScope(av, () -> {
            NDArray index = av.getManager().create(kept);
            NDArray keptGate = gate.getArray().get(new NDIndex(":, {}", index));
            return new NDList(
                    av.get(new NDIndex("{}", index)),
                    bv.get(new NDIndex(":, {}", index)).mul(keptGate));
        });
        return new LoraFactors(f.get(0), f.get(1), scaling);
    }

    @Override
    public void close() {
        LinearAdapter.super.close();
        scalingArray.close();
    }

    @Override
    public int rank() {
        return (int) a.getArray().getShape().get(0);
    }
}
