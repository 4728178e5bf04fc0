package dev.delora.djl.persist;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import dev.delora.core.array.ArrayOps;
import dev.delora.core.lora.LoraConfig;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.djl.tree.BlockTree;
import java.nio.file.Path;
import java.util.Random;

/**
 * Two LoRA adapters A and B on the same tiny base that differ in their weights and in {@code lora_alpha} (so a folder
 * mixing A's weights with B's config gives other outputs); as a program, saves them alternately into one folder
 * forever, for {@link CrashSafeSaveTest} to kill.
 */
final class SaveLoop {

    static final int IN = 6;

    private SaveLoop() {}

    /** A base MLP whose weights come from a fixed host-side random stream (the same in every process). */
    static SequentialBlock base(NDManager manager) {
        SequentialBlock block = new SequentialBlock()
                .add(Linear.builder().setUnits(5).build())
                .add(Linear.builder().setUnits(3).build());
        block.initialize(manager, DataType.FLOAT32, new Shape(1, IN));
        fill(BlockTree.parameters(block).values(), new Random(7));
        return block;
    }

    /** Adapter A (seed 1, α 8) or B (seed 2, α 16) injected into a base. */
    static AdaptedModel adapter(Block base, boolean a) {
        AdaptedModel peft = AdaptedModel.inject(
                base,
                LoraConfig.builder()
                        .r(2)
                        .loraAlpha(a ? 8 : 16)
                        .targetModules("01Linear", "02Linear")
                        .build());
        peft.adaptedModules()
                .values()
                .forEach(m -> fill(m.adapters().get("default").parameters().values(), new Random(a ? 1 : 2)));
        return peft;
    }

    private static void fill(Iterable<Parameter> parameters, Random random) {
        for (Parameter p : parameters) {
            NDArray array = p.getArray();
            float[] values = new float[(int) array.size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) random.nextGaussian();
            }
            try (NDArray v = array.getManager().create(values, array.getShape())) {
                ArrayOps.assign(array, v);
            }
        }
    }

    /**
     * Saves A and B alternately into {@code args[0]} until killed; prints {@code ready} after the first pair.
     *
     * @param args the folder
     * @throws Exception if saving fails
     */
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        try (NDManager manager = NDManager.newBaseManager()) {
            AdaptedModel a = adapter(base(manager), true);
            AdaptedModel b = adapter(base(manager), false);
            PeftAdapters.save(a, dir);
            PeftAdapters.save(b, dir);
            System.out.println("ready");
            System.out.flush();
            while (true) {
                PeftAdapters.save(a, dir);
                PeftAdapters.save(b, dir);
            }
        }
    }
}
