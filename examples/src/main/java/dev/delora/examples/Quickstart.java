package dev.delora.examples;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.loss.Loss;
import dev.delora.core.delora.DeloraConfig;
import dev.delora.core.delora.DeloraInit;
import dev.delora.djl.hf.EmbeddedModels;
import dev.delora.djl.hf.HfExport;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.djl.tree.BlockTree;
import dev.delora.djl.train.GroupedAdamW;
import dev.delora.djl.train.ParameterGroups;
import java.nio.file.Path;
import java.util.List;

/** The README's quickstart, compiled with the project so it cannot drift from the API. */
public final class Quickstart {

    private Quickstart() {}

    /**
     * Adapts the embedded MiniLM with DeLoRA, takes a few optimizer steps on two sentences, merges and exports.
     *
     * @param args ignored
     * @throws Exception if loading or exporting fails
     */
    public static void main(String[] args) throws Exception {
        try (Model model = Model.newInstance("quickstart");
                EmbeddedModels.Embedded miniLm = EmbeddedModels.miniLm(model.getNDManager(), 2, 128)) {
            Block block = miniLm.block();
            model.setBlock(block);
            AdaptedModel peft = AdaptedModel.inject(block, DeloraConfig.builder().r(8).deloraLambda(12)
                    .init(DeloraInit.PAPER).targetModules("query", "value").modulesToSave("classifier").build());
            peft.printTrainableParameters();

            GroupedAdamW optimizer = GroupedAdamW.create(BlockTree.parameters(block), ParameterGroups.delora(3e-3).build(), 1e-3);
            NDManager data = model.getNDManager().newSubManager();
            NDList inputs = miniLm.tokenizer().encode(List.of("a gripping, funny film", "a tedious mess"))
                    .toNDList(data);
            NDArray labels = data.create(new long[] {1, 0});
            for (int step = 0; step < 5; step++) {
                try (NDManager stepManager = data.newSubManager();
                        GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    NDList logits = block.forward(new ParameterStore(stepManager, false), inputs, true);
                    NDArray loss = Loss.softmaxCrossEntropyLoss().evaluate(new NDList(labels), logits);
                    collector.backward(loss);
                    System.out.printf("step %d loss %.4f%n", step, loss.getFloat());
                }
                optimizer.step(1.0);
            }
            data.close();
            HfExport.save(peft.mergeAndUnload(), miniLm.config(), null, Path.of("runs", "quickstart"));
        }
    }
}
