package dev.delora.examples.gsm8k;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.ParameterStore;
import com.google.gson.GsonBuilder;
import dev.delora.djl.hf.decoder.CausalLm;
import dev.delora.djl.hf.decoder.CausalLmExamples;
import dev.delora.djl.hf.decoder.CausalLmLoss;
import dev.delora.djl.hf.decoder.DecoderModels;
import dev.delora.djl.hf.decoder.Generated;
import dev.delora.djl.hf.decoder.GenerationSettings;
import dev.delora.djl.io.AtomicFiles;
import dev.delora.djl.io.Rss;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.djl.peft.ParameterCounts;
import dev.delora.djl.persist.PeftAdapters;
import dev.delora.djl.train.AdapterTrainer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Fine-tunes a decoder (Llama, Qwen2 or Mistral folder with {@code tokenizer.json}) on GSM8K with any registered
 * adapter method and measures it before and after: the next-token loss of the responses of held-out problems and the
 * exact match of the final {@code #### N} of greedy generations ({@link Gsm8kAnswers#matches} with the flexible
 * fallback). Training is next-token loss on the response only ({@link CausalLmExamples}: the ChatML prompt of
 * {@link Gsm8kTokens} is masked) through {@link AdapterTrainer#forAdapter}. Results go to {@code summary.json} and
 * {@code results.md} in the output folder.
 */
public final class Gsm8kRunner {

    private final Path modelDir;
    private final Gsm8kSettings settings;
    private final Device device;
    private final Path output;
    private final PrintStream out;

    /**
     * The measurements of one evaluation.
     *
     * @param loss mean next-token loss over the counted response tokens
     * @param exactMatch share of problems whose generation has the reference's final answer
     * @param correct problems answered correctly
     * @param generations the decoded generations in problem order
     * @param generatedTokens tokens generated over all problems, each row up to and including its eos
     * @param generationSeconds wall time of the generation calls
     */
    public record Evaluation(
            double loss,
            double exactMatch,
            int correct,
            List<String> generations,
            long generatedTokens,
            double generationSeconds) {}

    /**
     * Creates a runner.
     *
     * @param modelDir the model folder
     * @param settings the run settings
     * @param device where to train
     * @param output the output folder
     * @param out where progress goes
     */
    public Gsm8kRunner(Path modelDir, Gsm8kSettings settings, Device device, Path output, PrintStream out) {
        this.modelDir = modelDir;
        this.settings = settings;
        this.device = device;
        this.output = output;
        this.out = out;
    }

    /**
     * Trains on the first {@code trainSamples} problems and evaluates the first {@code evalSamples} held-out ones
     * before and after, then writes {@code summary.json} and {@code results.md}.
     *
     * @param trainSplit the training problems
     * @param testSplit the held-out problems
     * @return the summary as written to {@code summary.json}
     * @throws IOException if the model or tokenizer cannot be read or the results cannot be written
     */
    public Map<String, Object> run(List<Gsm8kProblem> trainSplit, List<Gsm8kProblem> testSplit) throws IOException {
        long start = System.nanoTime();
        List<Gsm8kProblem> train = trainSplit.subList(0, Math.min(settings.trainSamples(), trainSplit.size()));
        List<Gsm8kProblem> test = testSplit.subList(0, Math.min(settings.evalSamples(), testSplit.size()));
        if (train.isEmpty() || test.isEmpty()) {
            throw new IllegalArgumentException("GSM8K needs at least one training and one test problem, got "
                    + train.size() + " and " + test.size());
        }
        Engine.getInstance().setRandomSeed((int) settings.seed());
        Files.createDirectories(output);
        Map<String, Object> summary = new LinkedHashMap<>();
        try (Model model = Model.newInstance("gsm8k", device)) {
            DecoderModels.Loaded loaded = DecoderModels.causalLm(modelDir, model.getNDManager());
            CausalLm lm = loaded.block();
            model.setBlock(lm);
            AdaptedModel peft = AdaptedModel.inject(lm, settings.adapterConfig());
            PeftAdapters.Metadata metadata = PeftAdapters.Metadata.infer(lm)
                    .withBaseModel(modelDir.toAbsolutePath().normalize().toString());
            // the untrained adapter too, so that another implementation can start from the same weights
            PeftAdapters.save(peft, AdaptedModel.DEFAULT_ADAPTER, output.resolve("adapter_initial"), metadata);
            try (Gsm8kTokens tokens = Gsm8kTokens.load(modelDir, loaded.generation())) {
                List<CausalLmExamples.Example> trainEx = new ArrayList<>();
                for (Gsm8kProblem p : train) {
                    trainEx.add(tokens.example(p, settings.maxLength()));
                }
                out.printf(
                        Locale.ROOT,
                        "gsm8k | %s | %d train, %d test problems | %s%n",
                        settings.method(),
                        train.size(),
                        test.size(),
                        ParameterCounts.of(peft));
                out.println("prompt format: " + tokens.promptFormat());
                double trainBefore = loss(model, lm, trainEx, tokens.padId());
                Evaluation before = evaluate(model, lm, tokens, test);
                out.printf(Locale.ROOT, "before training: %s, train loss %.4f%n", format(before), trainBefore);
                List<List<CausalLmExamples.Example>> batches = batches(trainEx, null);
                Random shuffle = new Random(settings.seed());
                AdapterTrainer.Result result;
                long trainTokens = 0;
                for (CausalLmExamples.Example e : trainEx) {
                    trainTokens += e.inputIds().length;
                }
                long trainStart = System.nanoTime();
                try (AdapterTrainer<List<CausalLmExamples.Example>> trainer = AdapterTrainer.forAdapter(
                        peft, (o, labels) -> CausalLmLoss.compute(o.head(), labels), settings.trainerSettings())) {
                    result = trainer.fit(epoch -> batches(trainEx, shuffle), batches.size(), (m, rows) -> {
                        CausalLmExamples.TrainingBatch b = CausalLmExamples.trainingBatch(rows, tokens.padId());
                        return new AdapterTrainer.Batch(b.inputs(m), b.labels(m), rows.size());
                    });
                }
                double trainSeconds = (System.nanoTime() - trainStart) / 1e9;
                PeftAdapters.save(peft, AdaptedModel.DEFAULT_ADAPTER, output.resolve("adapter"), metadata);
                List<Double> epochLosses = new ArrayList<>();
                for (AdapterTrainer.EpochResult e : result.epochs()) {
                    epochLosses.add(e.meanLoss());
                    out.printf(Locale.ROOT, "epoch %d: mean training loss %.4f%n", e.epoch() + 1, e.meanLoss());
                }
                double trainAfter = loss(model, lm, trainEx, tokens.padId());
                Evaluation after = evaluate(model, lm, tokens, test);
                out.printf(Locale.ROOT, "after training: %s, train loss %.4f%n", format(after), trainAfter);
                summary.put("model", modelDir.toAbsolutePath().normalize().toString());
                summary.put("settings", settings);
                summary.put("adapter_fields", settings.effectiveFields());
                summary.put("target_modules", Gsm8kSettings.TARGETS);
                summary.put("prompt_format", tokens.promptFormat());
                summary.put("train_problems", train.size());
                summary.put("eval_problems", test.size());
                summary.put("steps", result.steps());
                summary.put("epoch_train_loss", epochLosses);
                summary.put("step_losses", result.stepLosses());
                summary.put("train_seconds", trainSeconds);
                summary.put("train_tokens", trainTokens * settings.epochs());
                summary.put("train_tokens_per_s", trainTokens * settings.epochs() / trainSeconds);
                summary.put("train_loss_before", trainBefore);
                summary.put("train_loss_after", trainAfter);
                summary.put("before", measures(before));
                summary.put("after", measures(after));
                summary.put("generations_after", after.generations());
            }
        }
        summary.put("seconds", (System.nanoTime() - start) / 1e9);
        summary.put("peak_rss_mib", peakRss());
        write(summary);
        return summary;
    }

    private List<List<CausalLmExamples.Example>> batches(List<CausalLmExamples.Example> all, Random shuffle) {
        List<CausalLmExamples.Example> order = new ArrayList<>(all);
        if (shuffle != null) {
            Collections.shuffle(order, shuffle);
        }
        List<List<CausalLmExamples.Example>> out = new ArrayList<>();
        for (int i = 0; i < order.size(); i += settings.batchSize()) {
            out.add(order.subList(i, Math.min(order.size(), i + settings.batchSize())));
        }
        return out;
    }

    /** Mean loss over every counted token (not the mean of batch means). */
    private double loss(Model model, CausalLm lm, List<CausalLmExamples.Example> examples, long pad) {
        double sum = 0;
        long count = 0;
        for (List<CausalLmExamples.Example> rows : batches(examples, null)) {
            int n = rows.stream()
                    .mapToInt(CausalLmExamples.Example::countedTokens)
                    .sum();
            if (n == 0) {
                continue;
            }
            try (NDManager m = model.getNDManager().newSubManager()) {
                CausalLmExamples.TrainingBatch b = CausalLmExamples.trainingBatch(rows, pad);
                NDArray logits = lm.forward(new ParameterStore(m, false), b.inputs(m), false)
                        .head();
                sum += CausalLmLoss.compute(logits, b.labels(m)).getFloat() * (double) n;
                count += n;
            }
        }
        return count == 0 ? Double.NaN : sum / count;
    }

    private Evaluation evaluate(Model model, CausalLm lm, Gsm8kTokens tokens, List<Gsm8kProblem> problems) {
        List<CausalLmExamples.Example> examples = new ArrayList<>();
        for (Gsm8kProblem p : problems) {
            examples.add(tokens.example(p, settings.maxLength()));
        }
        double loss = loss(model, lm, examples, tokens.padId());
        GenerationSettings gen = GenerationSettings.builder()
                .maxNewTokens(settings.maxNewTokens())
                .eosTokenIds(tokens.eosIds())
                .padTokenId((int) tokens.padId())
                .build();
        List<String> generations = new ArrayList<>();
        int correct = 0;
        long generated = 0;
        long nanos = 0;
        int promptRoom = Math.max(1, settings.maxLength() - 1);
        for (int i = 0; i < problems.size(); i += settings.batchSize()) {
            List<Gsm8kProblem> rows = problems.subList(i, Math.min(problems.size(), i + settings.batchSize()));
            List<long[]> prompts = new ArrayList<>();
            for (Gsm8kProblem p : rows) {
                prompts.add(tokens.encode(tokens.prompt(p.question())));
            }
            try (NDManager m = model.getNDManager().newSubManager()) {
                CausalLmExamples.PromptBatch b = CausalLmExamples.promptBatch(prompts, tokens.padId(), promptRoom);
                long t0 = System.nanoTime();
                Generated g = lm.generate(b.ids(m), b.mask(m), gen);
                nanos += System.nanoTime() - t0;
                for (int length : g.lengths()) {
                    generated += length;
                }
                long[] flat = g.tokens().toLongArray();
                int steps = (int) g.tokens().getShape().get(1);
                for (int r = 0; r < rows.size(); r++) {
                    long[] ids = new long[steps];
                    System.arraycopy(flat, r * steps, ids, 0, steps);
                    String text = tokens.decode(ids);
                    generations.add(text);
                    correct += Gsm8kAnswers.matches(text, rows.get(r).answer(), true) ? 1 : 0;
                }
            }
            out.printf(Locale.ROOT, "  generated %d/%d%n", generations.size(), problems.size());
        }
        return new Evaluation(loss, correct / (double) problems.size(), correct, generations, generated, nanos / 1e9);
    }

    private static Map<String, Object> measures(Evaluation e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("held_out_loss", e.loss());
        m.put("exact_match", e.exactMatch());
        m.put("correct", e.correct());
        m.put("generated_tokens", e.generatedTokens());
        m.put("generation_seconds", e.generationSeconds());
        m.put("generation_tokens_per_s", e.generatedTokens() / e.generationSeconds());
        return m;
    }

    private static String format(Evaluation e) {
        return String.format(
                Locale.ROOT,
                "held-out loss %.4f, exact match %.4f (%d/%d), %.1f generated tokens/s",
                e.loss(),
                e.exactMatch(),
                e.correct(),
                e.generations().size(),
                e.generatedTokens() / e.generationSeconds());
    }

    /** The peak resident memory in MiB, or {@code null} where {@code /proc/self/status} does not exist. */
    private static Double peakRss() {
        try {
            return Rss.peakMb();
        } catch (RuntimeException e) {
            return null;
        }
    }

    private void write(Map<String, Object> summary) throws IOException {
        AtomicFiles.writeString(
                output.resolve("summary.json"),
                new GsonBuilder()
                                .setPrettyPrinting()
                                .serializeSpecialFloatingPointValues()
                                .create()
                                .toJson(summary)
                        + "\n");
        @SuppressWarnings("unchecked")
        Map<String, Object> before = (Map<String, Object>) summary.get("before");
        @SuppressWarnings("unchecked")
        Map<String, Object> after = (Map<String, Object>) summary.get("after");
        StringBuilder md = new StringBuilder();
        md.append("# GSM8K: ").append(settings.method()).append(" on ").append(summary.get("model"));
        md.append("\n\n");
        md.append(String.format(
                Locale.ROOT,
                "%d training problems, %d held-out problems, %d epochs, lr %s, max length %d, %d new tokens%n%n",
                summary.get("train_problems"),
                summary.get("eval_problems"),
                settings.epochs(),
                settings.lr(),
                settings.maxLength(),
                settings.maxNewTokens()));
        md.append("| | held-out loss | exact match | correct |\n|---|---|---|---|\n");
        for (String k : List.of("before", "after")) {
            Map<String, Object> e = k.equals("before") ? before : after;
            md.append(String.format(
                    Locale.ROOT,
                    "| %s training | %.4f | %.4f | %s |%n",
                    k,
                    (Double) e.get("held_out_loss"),
                    (Double) e.get("exact_match"),
                    e.get("correct")));
        }
        AtomicFiles.writeString(output.resolve("results.md"), md.toString());
    }
}
