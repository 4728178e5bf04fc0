package dev.delora.djl.hf;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.util.Pair;
import java.util.HashMap;
import java.util.Map;

/**
 * Base of the Hugging Face-shaped blocks: children are registered under transformers' module names (no ordinal
 * prefix), so {@code BlockTree} paths and state-dict keys equal PyTorch's. Each child is initialised with the input
 * shape recorded when it was added; the lookup is by key, so a child swapped in later (an adapter wrapping a
 * {@code Linear}) is initialised the same way.
 */
public abstract class HfModule extends AbstractBlock {

    private final Map<String, Shape> childInputs = new HashMap<>();

    /** Creates an empty module. */
    protected HfModule() {}

    /**
     * Registers a child under a Hugging Face module name.
     *
     * @param name the module name, e.g. {@code query}
     * @param block the child
     * @param input the input shape it is initialised with (only the last dimension matters for a Linear)
     * @param <B> the block type
     * @return the child
     */
    protected final <B extends Block> B child(String name, B block, Shape input) {
        children.add(name, block);
        childInputs.put(name, input);
        return block;
    }

    /**
     * Returns the current child under a name (it may have been swapped for an adapter).
     *
     * @param name the module name
     * @return the child
     */
    protected final Block childBlock(String name) {
        for (Pair<String, Block> p : children) {
            if (p.getKey().equals(name)) {
                return p.getValue();
            }
        }
        throw new IllegalStateException(getClass().getSimpleName() + " has no child '" + name + "'");
    }

    /** {@inheritDoc} */
    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        for (Pair<String, Block> p : children) {
            Shape s = childInputs.get(p.getKey());
            if (s == null) {
                throw new IllegalStateException(
                        getClass().getSimpleName() + " has no input shape for child '" + p.getKey() + "'");
            }
            p.getValue().initialize(manager, dataType, s);
        }
    }
}
