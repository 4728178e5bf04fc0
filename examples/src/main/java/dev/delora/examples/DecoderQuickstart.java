package dev.delora.examples;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDManager;
import dev.delora.core.delora.DeloraConfig;
import dev.delora.djl.hf.chat.ChatMessage;
import dev.delora.djl.hf.chat.ChatTemplate;
import dev.delora.djl.hf.decoder.CausalLmExamples;
import dev.delora.djl.hf.decoder.CausalLmLoss;
import dev.delora.djl.hf.decoder.DecoderModels;
import dev.delora.djl.hf.decoder.GenerationConfig;
import dev.delora.djl.hf.decoder.GenerationSettings;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.djl.train.AdapterTrainer;
import dev.delora.djl.train.TrainerSettings;
import java.nio.file.Path;
import java.util.List;

/**
 * The user guide's decoder example (docs/user-guide.md, "Decoder language models", shown verbatim): load a Llama or
 * Qwen2 folder, inject DeLoRA into q_proj and v_proj, train three steps on one prompt/answer pair, generate.
 */
public final class DecoderQuickstart {

    private DecoderQuickstart() {}

    /**
     * Runs the example.
     *
     * @param args the model folder (config.json, model.safetensors, tokenizer.json, tokenizer_config.json)
     * @throws Exception if loading or training fails
     */
    public static void main(String[] args) throws Exception {
        Path folder = Path.of(args[0]); // config.json, model.safetensors, tokenizer.json, tokenizer_config.json
        try (NDManager manager = NDManager.newBaseManager();
                HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.builder()
                        .optTokenizerPath(folder.resolve("tokenizer.json"))
                        .optAddSpecialTokens(false)
                        .build()) {
            DecoderModels.Loaded lm = DecoderModels.causalLm(folder, manager);
            AdaptedModel peft = AdaptedModel.inject(
                    lm.block(),
                    DeloraConfig.builder()
                            .r(8)
                            .deloraLambda(0.5f)
                            .targetModules("q_proj", "v_proj")
                            .build());
            // the prompt as transformers' apply_chat_template(messages, add_generation_prompt=True) renders it
            String prompt = ChatTemplate.fromFolder(folder) // tokenizer_config.json's chat_template
                    .render(List.of(ChatMessage.user("What is 7 + 5?")), true);
            long imEnd = tokenizer.encode("<|im_end|>").getIds()[0];

            // a few steps on one (prompt, answer) pair; the loss counts the answer tokens only
            CausalLmExamples.Example example = CausalLmExamples.example(
                    tokenizer.encode(prompt).getIds(),
                    tokenizer.encode("7 + 5 = 12\n#### 12").getIds(),
                    imEnd,
                    256,
                    CausalLmExamples.Truncation.REFUSE);
            TrainerSettings settings = TrainerSettings.builder()
                    .epochs(3)
                    .learningRate(1e-3)
                    .progress(false)
                    .build();
            try (AdapterTrainer<List<CausalLmExamples.Example>> trainer = AdapterTrainer.forAdapter(
                    peft, (out, labels) -> CausalLmLoss.compute(out.head(), labels), settings)) {
                trainer.fit(List.of(List.of(example)), (m, rows) -> {
                    CausalLmExamples.TrainingBatch b = CausalLmExamples.trainingBatch(rows, imEnd);
                    return new AdapterTrainer.Batch(b.inputs(m), b.labels(m), rows.size());
                });
            }

            // greedy generation, stopping at the model's end-of-turn token
            CausalLmExamples.PromptBatch p = CausalLmExamples.promptBatch(
                    List.of(tokenizer.encode(prompt).getIds()), imEnd, 256);
            GenerationSettings generation = GenerationSettings.builder()
                    .generationConfig(GenerationConfig.load(folder))
                    .maxNewTokens(32)
                    .build();
            long[] tokens = lm.block()
                    .generate(p.ids(manager), p.mask(manager), generation)
                    .tokens()
                    .toLongArray();
            System.out.println(tokenizer.decode(tokens, true));
        }
    }
}
