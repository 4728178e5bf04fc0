package dev.delora.examples.gsm8k;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import dev.delora.djl.hf.chat.ChatMessage;
import dev.delora.djl.hf.chat.ChatTemplate;
import dev.delora.djl.hf.decoder.CausalLmExamples;
import dev.delora.djl.hf.decoder.GenerationConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The text side of the GSM8K runner: prompts, responses, a model folder's {@code tokenizer.json} (no special tokens
 * added, no truncation, no padding) and the special ids. The prompt is the folder's chat template applied to one user
 * turn as transformers' {@code apply_chat_template(messages, add_generation_prompt=True)} renders it (SmolLM2's adds
 * its default system turn); a folder without a template gets plain ChatML
 * ({@code <|im_start|>user\n{question}<|im_end|>\n<|im_start|>assistant\n}). The response is the answer followed
 * by {@code <|im_end|>}, so the tokenizer must hold that token.
 */
public final class Gsm8kTokens implements AutoCloseable {

    /** The start-of-turn token of ChatML. */
    public static final String IM_START = "<|im_start|>";
    /** The end-of-turn token of ChatML; it ends each response. */
    public static final String IM_END = "<|im_end|>";

    private final HuggingFaceTokenizer tokenizer;
    private final ChatTemplate template;
    private final long imEnd;
    private final List<Integer> eos;
    private final long pad;

    private Gsm8kTokens(
            HuggingFaceTokenizer tokenizer, ChatTemplate template, long imEnd, List<Integer> eos, long pad) {
        this.tokenizer = tokenizer;
        this.template = template;
        this.imEnd = imEnd;
        this.eos = eos;
        this.pad = pad;
    }

    /**
     * Loads a model folder's {@code tokenizer.json}; the eos ids are {@code generation_config.json}'s (or
     * {@code config.json}'s) and the tokenizer's {@code <|im_end|>}, the pad id is the generation config's, else the
     * first eos id; the chat template is the folder's ({@link ChatTemplate#findInFolder}), if it has one.
     *
     * @param folder the model folder
     * @param generation its generation config
     * @return the tokens
     * @throws IOException if {@code tokenizer.json} is missing or unreadable
     * @throws IllegalArgumentException if the tokenizer has no single {@code <|im_end|>} token, or the folder's
     *     tokenizer config or chat template is malformed
     */
    public static Gsm8kTokens load(Path folder, GenerationConfig generation) throws IOException {
        Path file = folder.resolve("tokenizer.json");
        if (!Files.isRegularFile(file)) {
            throw new IOException(folder + " has no tokenizer.json (the GSM8K runner needs the model's tokenizer)");
        }
        HuggingFaceTokenizer tok = HuggingFaceTokenizer.builder()
                .optTokenizerPath(file)
                .optAddSpecialTokens(false)
                .optTruncation(false)
                .optPadding(false)
                .build();
        try {
            ChatTemplate template = ChatTemplate.findInFolder(folder).orElse(null);
            long[] end = tok.encode(IM_END, false, false).getIds();
            if (end.length != 1) {
                throw new IllegalArgumentException(
                        file + " does not hold " + IM_END + " as one token (the runner's prompts are ChatML)");
            }
            Set<Integer> eos = new LinkedHashSet<>(generation.eosTokenIds());
            eos.add((int) end[0]);
            List<Integer> eosIds = new ArrayList<>(eos);
            long pad = generation.padTokenId() != null ? generation.padTokenId() : eosIds.get(0);
            return new Gsm8kTokens(tok, template, end[0], eosIds, pad);
        } catch (IOException | RuntimeException e) {
            tok.close();
            throw e;
        }
    }

    /**
     * Returns the prompt of a question: the chat template applied to one user turn with the generation prompt, or
     * plain ChatML when the folder has no template.
     *
     * @param question the question
     * @return the prompt text
     */
    public String prompt(String question) {
        if (template != null) {
            return template.render(List.of(ChatMessage.user(question)), true);
        }
        return IM_START + "user\n" + question + IM_END + "\n" + IM_START + "assistant\n";
    }

    /**
     * Returns where the prompt format comes from.
     *
     * @return the template's origin, or {@code "plain ChatML (the folder has no chat template)"}
     */
    public String promptFormat() {
        return template != null ? template.origin() : "plain ChatML (the folder has no chat template)";
    }

    /**
     * Encodes text without adding special tokens (ChatML markers in it are matched as the tokenizer's added tokens).
     *
     * @param text the text
     * @return the ids
     */
    public long[] encode(String text) {
        return tokenizer.encode(text, false, false).getIds();
    }

    /**
     * Builds a training sequence: the question's prompt, then the answer and {@code <|im_end|>} as the response; a
     * too long prompt loses its start ({@link CausalLmExamples.Truncation#LEFT_OF_PROMPT}).
     *
     * @param problem the problem
     * @param maxLength the most tokens
     * @return the sequence with the prompt masked in its labels
     */
    public CausalLmExamples.Example example(Gsm8kProblem problem, int maxLength) {
        return CausalLmExamples.example(
                encode(prompt(problem.question())),
                encode(problem.answer()),
                imEnd,
                maxLength,
                CausalLmExamples.Truncation.LEFT_OF_PROMPT);
    }

    /**
     * Decodes generated ids up to (without) the first eos id, skipping special tokens.
     *
     * @param ids the generated ids
     * @return the text
     */
    public String decode(long[] ids) {
        int n = 0;
        while (n < ids.length && !eos.contains((int) ids[n])) {
            n++;
        }
        long[] kept = new long[n];
        System.arraycopy(ids, 0, kept, 0, n);
        return tokenizer.decode(kept, true);
    }

    /**
     * Returns the ids that end generation.
     *
     * @return the eos ids
     */
    public List<Integer> eosIds() {
        return List.copyOf(eos);
    }

    /**
     * Returns the padding id.
     *
     * @return the pad id
     */
    public long padId() {
        return pad;
    }

    /** Frees the native tokenizer. */
    @Override
    public void close() {
        tokenizer.close();
    }
}
