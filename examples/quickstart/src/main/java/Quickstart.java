import ai.djl.Model;
import ai.djl.ndarray.NDList;
import ai.djl.training.loss.Loss;
import dev.delora.core.delora.DeloraConfig;
import dev.delora.core.delora.DeloraInit;
import dev.delora.djl.hf.EmbeddedModels;
import dev.delora.djl.hf.HfExport;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.djl.persist.PeftAdapters;
import dev.delora.djl.train.AdapterTrainer;
import dev.delora.djl.train.TrainerSettings;
import java.nio.file.Path;
import java.util.List;

/** DeLoRA on the embedded all-MiniLM-L6-v2: five steps on two sentences, then save, merge and export. */
public class Quickstart {
    public static void main(String[] args) throws Exception {
        try (Model model = Model.newInstance("quickstart");
                EmbeddedModels.Embedded miniLm = EmbeddedModels.miniLm(model.getNDManager(), 2, 128)) {
            model.setBlock(miniLm.block()); // BERT with Hugging Face module names, weights from Maven Central
            AdaptedModel peft = AdaptedModel.inject(
                    miniLm.block(),
                    DeloraConfig.builder()
                            .r(8)
                            .deloraLambda(12)
                            .init(DeloraInit.PAPER)
                            .targetModules("query", "value")
                            // the head, and the pooler the checkpoint lacks (miniLm.report().modulesToSave(...)):
                            // trained and saved with the adapter, which PEFT can then reproduce on the base
                            .modulesToSave("classifier", "bert.pooler.dense")
                            .build());
            peft.printTrainableParameters(); // trainable params: 222,350 || all params: 22,787,726 || ...

            // the trainer builds DeLoRA's parameter groups (λ at its own rate) from the adapter's config
            TrainerSettings settings = TrainerSettings.builder()
                    .epochs(5)
                    .learningRate(1e-3)
                    .warmupRatio(0)
                    .groupLearningRate("delora_lambda", 3e-3)
                    .build();
            Loss crossEntropy = Loss.softmaxCrossEntropyLoss();
            List<String> texts = List.of("a gripping, funny film", "a tedious mess");
            long[] labels = {1, 0};
            try (AdapterTrainer<List<String>> trainer = AdapterTrainer.forAdapter(
                    peft, (logits, y) -> crossEntropy.evaluate(new NDList(y), logits), settings)) {
                AdapterTrainer.Result result = trainer.fit(
                        List.of(texts),
                        (manager, batch) -> new AdapterTrainer.Batch(
                                miniLm.tokenizer().encode(batch).toNDList(manager),
                                manager.create(labels),
                                batch.size()));
                System.out.println("loss per step: " + result.stepLosses());
            }
            // the adapter as an exactly equivalent plain LoRA, which PEFT's PeftModel.from_pretrained loads
            PeftAdapters.saveAsLora(peft, AdaptedModel.DEFAULT_ADAPTER, Path.of("runs", "quickstart", "adapter"));
            HfExport.save(peft.mergeAndUnload(), miniLm.config(), null, Path.of("runs", "quickstart", "merged"));
        }
    }
}
