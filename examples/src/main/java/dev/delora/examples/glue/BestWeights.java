package dev.delora.examples.glue;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import dev.delora.core.array.ArrayOps;
import dev.delora.djl.tree.BlockTree;
import java.util.IdentityHashMap;
import java.util.Map;

/** A copy of the trainable weights at the best epoch (adapter and head), restored before merging. */
final class BestWeights implements AutoCloseable {
    private final Map<Parameter, NDArray> saved = new IdentityHashMap<>();
    private final Block block;

    BestWeights(Block block) {
        this.block = block;
    }

    void save() {
        for (Parameter p : BlockTree.parameters(block).values()) {
            if (p.requiresGradient()) {
                NDArray copy = p.getArray().duplicate();
                copy.detach();
                NDArray old = saved.put(p, copy);
                if (old != null) {
                    old.close();
                }
            }
        }
    }

    void restore() {
        saved.forEach((p, v) -> ArrayOps.assign(p.getArray(), v));
    }

    @Override
    public void close() {
        saved.values().forEach(NDArray::close);
        saved.clear();
    }
}
