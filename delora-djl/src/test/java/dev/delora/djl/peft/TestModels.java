package dev.delora.djl.peft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.delora.core.lora.LoraConfig;
import dev.delora.core.lora.LoraInit;
import dev.delora.djl.tree.BlockTree;
import java.util.LinkedHashMap;
import java.util.Map;

/** Small block trees of every shape injection must handle. */
public final class TestModels {

    private TestModels() {}

    /** Linear(8) → tanh → Linear(3); paths {@code 01Linear}, {@code LambdaBlock}, {@code 03Linear}. */
    public static SequentialBlock mlp(NDManager manager, int in) {
        SequentialBlock block = new SequentialBlock()
                .add(Linear.builder().setUnits(8).build())
                .add(Activation::tanh)
                .add(Linear.builder().setUnits(3).build());
        block.initialize(manager, DataType.FLOAT32, new Shape(1, in));
        return block;
    }

    /** A user-written block that calls its sub-blocks through fields, like DJL's own transformer blocks. */
    public static final class TwoTower extends AbstractBlock {
        private Linear proj;
        private Linear gate;

        /**
         * Returns the projection, as the field the forward pass calls.
         *
         * @return the block
         */
        public Linear proj() {
            return proj;
        }

        /**
         * Returns the gate, as the field the forward pass calls.
         *
         * @return the block
         */
        public Linear gate() {
            return gate;
        }

        public TwoTower() {
            proj = addChildBlock("proj", Linear.builder().setUnits(6).build());
            gate = addChildBlock(
                    "gate", Linear.builder().setUnits(6).optBias(false).build());
        }

        @Override
        protected NDList forwardInternal(
                ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> p) {
            NDArray a = proj.forward(ps, inputs, training, p).head();
            NDArray g = gate.forward(ps, inputs, training, p).head();
            return new NDList(a.mul(g.getNDArrayInternal().sigmoid()));
        }

        @Override
        public ai.djl.ndarray.types.Shape[] getOutputShapes(Shape[] inputs) {
            return proj.getOutputShapes(inputs);
        }

        @Override
        protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
            proj.initialize(manager, dataType, inputShapes);
            gate.initialize(manager, dataType, inputShapes);
        }
    }

    public static NDArray forward(Block block, NDManager manager, NDArray... inputs) {
        return block.forward(new ParameterStore(manager, false), new NDList(inputs), false)
                .head();
    }

    /** Copies every parameter's values, by state-dict key. */
    public static Map<String, float[]> snapshot(Block block) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : BlockTree.parameters(block).entrySet()) {
            out.put(e.getKey(), e.getValue().getArray().toFloatArray());
        }
        return out;
    }

    /** Max |a − b| of two arrays of the same shape (a shape mismatch fails instead of broadcasting). */
    public static float maxAbsDiff(NDArray a, NDArray b) {
        assertEquals(a.getShape(), b.getShape());
        return a.sub(b).abs().max().getFloat();
    }

    /** Fails unless max |want − got| ≤ tol, naming {@code what} and the difference. */
    public static void assertClose(NDArray want, NDArray got, double tol, String what) {
        float d = maxAbsDiff(want, got);
        assertTrue(d <= tol, what + ": max |diff| " + d + " > " + tol);
    }

    /** A LoRA config (r = 2, α = 4) whose B is random too, so that a fresh adapter already changes the output. */
    public static LoraConfig randomLora(String... targets) {
        return LoraConfig.builder()
                .r(2)
                .loraAlpha(4)
                .initLoraWeights(LoraInit.RANDOM)
                .targetModules(targets)
                .build();
    }
}
