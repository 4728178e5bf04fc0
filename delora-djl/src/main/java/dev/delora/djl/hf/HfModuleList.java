package dev.delora.djl.hf;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import java.util.function.IntFunction;

/**
 * transformers' {@code nn.ModuleList}: children keyed {@code "0"}, {@code "1"}, …, so their paths read
 * {@code encoder.layer.3.…} or {@code model.layers.3.…}. Its parent iterates the children; the list itself is never
 * called. Shared by the encoders' {@code layer} and the decoders' {@code layers}.
 */
public final class HfModuleList extends HfModule {

    /**
     * Creates the list.
     *
     * @param count the number of children
     * @param child makes the child at an index
     * @param childInput the input shape each child is initialised with
     */
    public HfModuleList(int count, IntFunction<? extends Block> child, Shape childInput) {
        for (int i = 0; i < count; i++) {
            child(Integer.toString(i), child.apply(i), childInput);
        }
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
        throw new UnsupportedOperationException("a ModuleList is iterated by its parent, not called");
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputs) {
        return inputs;
    }
}
