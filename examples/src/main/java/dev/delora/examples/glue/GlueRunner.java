package dev.delora.examples.glue;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import ai.djl.training.loss.Loss;
import dev.delora.core.AdapterConfig;
import dev.delora.djl.hf.HfExport;
import dev.delora.djl.hf.HfSequenceClassifier;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.djl.peft.LoraForm;
import dev.delora.djl.peft.ParameterCounts;
import dev.delora.djl.persist.PeftAdapters;
import dev.delora.djl.train.AdapterTrainer;
import dev.delora.djl.train.LengthGroupedBatches;
import dev.delora.djl.train.TrainerSettings;
import dev.delora.djl.train.UpdateNormLog;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Runs the RED/DeLoRA GLUE protocol for one task and method: train on GLUE train, evaluate the new validation split
 * after every epoch, evaluate the new test split whenever validation strictly improves (best starts at 0), and report
 * the test metric of the first epoch that reached the best validation metric. Each seed is a separate run with its own
 * split; results go to per-seed logs, {@code summary.json} and {@code results.md} (mean ± std across seeds).
 */
public final class GlueRunner {

    private final GlueTask task;
    private final Hyperparameters hp;
    private final ModelSource source;
    private final Device device;
    private final Path output;
    private final int evalBatchSize;
    private final boolean export;
    private final PrintStream out;
    private int distanceEvery;
    private boolean groupByLength;
    private EpochBatchesListener epochBatches;

    /**
     * Creates a runner.
     *
     * @param task the GLUE task
     * @param hp the hyperparameters
     * @param source the pretrained model
     * @param device the device (CPU or a GPU)
     * @param output the output folder
     * @param evalBatchSize the evaluation batch size
     * @param export whether to merge the best adapter into the model and export it as a Hugging Face folder
     * @param out where progress lines go
     */
    public GlueRunner(
            GlueTask task,
            Hyperparameters hp,
            ModelSource source,
            Device device,
            Path output,
            int evalBatchSize,
            boolean export,
            PrintStream out) {
        this.task = task;
        this.hp = hp;
        this.source = source;
        this.device = device;
        this.output = output;
        this.evalBatchSize = evalBatchSize;
        this.export = export;
        this.out = out;
    }

    /**
     * Records {@code ‖W_eff − W_0‖_F} of every adapted module (and one-element parameters such as DeLoRA's λ) to
     * {@code seed-<seed>-distance.jsonl} at step 0, every {@code steps} optimizer steps and after the last step
     * ({@link UpdateNormLog}).
     *
     * @param steps the interval in optimizer steps; 0 records nothing (the default)
     * @return this
     * @throws IllegalArgumentException if negative
     */
    public GlueRunner trackDistance(int steps) {
        if (steps < 0) {
            throw new IllegalArgumentException("--track-distance must be >= 1 step, got " + steps);
        }
        this.distanceEvery = steps;
        return this;
    }

    /**
     * Groups training rows of similar length into the same batches ({@link LengthGroupedBatches}, transformers'
     * {@code group_by_length=True}): each epoch still trains on every example once, with the same loss, but on other
     * batches, so with less padding. Off by default (the papers' protocol: plain shuffled batches); evaluation batches
     * keep the data's order either way. {@code summary.json} records the choice as {@code groupByLength}.
     *
     * @param on whether to group by length
     * @return this
     */
    public GlueRunner groupByLength(boolean on) {
        this.groupByLength = on;
        return this;
    }

    /** Test seam: sees each training epoch's batches (row indices) and the rows' unpadded lengths. */
    @FunctionalInterface
    interface EpochBatchesListener {
        void epoch(int epoch, int[] lengths, List<int[]> batches);
    }

    GlueRunner epochBatches(EpochBatchesListener listener) {
        this.epochBatches = listener;
        return this;
    }

    /**
     * Returns the distance log of a seed in an output folder.
     *
     * @param output the runner's output folder
     * @param seed the seed
     * @return {@code <output>/seed-<seed>-distance.jsonl}
     */
    public static Path distanceLog(Path output, int seed) {
        return output.resolve("seed-" + seed + "-distance.jsonl");
    }

    /**
     * One epoch of a run.
     *
     * @param epoch the 1-based epoch
     * @param meanLoss the mean training loss
     * @param validation the validation metrics
     * @param test the test metrics when validation improved, else {@code null}
     */
    public record EpochLog(int epoch, double meanLoss, Map<String, Double> validation, Map<String, Double> test) {}

    /**
     * The outcome of one seed.
     *
     * @param seed the seed (also the split seed)
     * @param bestEpoch the first epoch with the best validation metric, or 0 if it never exceeded 0
     * @param testBefore test metrics of the untrained model (new head, zero adapter)
     * @param testAtBest the reported result: test metrics at the best epoch (empty if none)
     * @param trainable the trainable-parameter summary
     * @param epochs the per-epoch log
     * @param seconds the wall time of training and evaluation
     */
    public record RunResult(
            int seed,
            int bestEpoch,
            Map<String, Double> testBefore,
            Map<String, Double> testAtBest,
            String trainable,
            List<EpochLog> epochs,
            double seconds) {}

    /**
     * Runs every seed on splits made by {@code data} and writes the summary files.
     *
     * @param seeds the seeds
     * @param data makes the splits for a seed
     * @return the runs
     * @throws IOException if writing fails
     */
    public List<RunResult> runAll(List<Integer> seeds, SplitSource data) throws IOException {
        Files.createDirectories(output);
        List<RunResult> results = new ArrayList<>();
        for (int seed : seeds) {
            results.add(run(data.splits(seed), seed));
            GlueRunFiles.writeSummary(output, task, source, hp, groupByLength, results);
        }
        return results;
    }

    /** Makes the splits of a seed. */
    @FunctionalInterface
    public interface SplitSource {
        /**
         * Returns the train/validation/test splits for a seed.
         *
         * @param seed the seed
         * @return the splits
         * @throws IOException if the data cannot be read
         */
        GlueData.Splits splits(int seed) throws IOException;
    }

    /**
     * Trains and evaluates one seed.
     *
     * @param data the splits
     * @param seed the seed
     * @return the outcome
     * @throws IOException if loading or exporting fails
     */
    public RunResult run(GlueData.Splits data, int seed) throws IOException {
        long start = System.nanoTime();
        Engine.getInstance().setRandomSeed(seed);
        boolean regression = task.isRegression();
        try (Model model = Model.newInstance("glue-" + task.id(), device)) {
            ModelSource.Loaded loaded = source.load(model.getNDManager(), task.numLabels(), hp.maxLength());
            Block block = loaded.block();
            model.setBlock(block);
            List<String> head = block instanceof HfSequenceClassifier c ? c.headModules() : List.of("classifier");
            // modules the checkpoint lacked (the embedded MiniLM's pooler) train and save with the adapter
            AdapterConfig adapterConfig = hp.adapterConfig(loaded.report().modulesToSave(head));
            List<String> saved = adapterConfig.targets().modulesToSave();
            AdaptedModel peft = AdaptedModel.inject(block, adapterConfig);
            String trainable = ParameterCounts.of(peft).toString();
            out.printf(Locale.ROOT, "%s | %s | seed %d | %s%n", task.id(), hp.method(), seed, trainable);
            if (saved.size() > head.size()) {
                out.printf(
                        Locale.ROOT,
                        "not in the checkpoint, so trained and saved with the adapter: %s%n",
                        saved.subList(head.size(), saved.size()));
            }

            EncodedExamples train;
            EncodedExamples validation;
            EncodedExamples test;
            try (var tokenizer = loaded.tokenizer()) {
                train = EncodedExamples.encode(tokenizer, data.train());
                validation = EncodedExamples.encode(tokenizer, data.validation());
                test = EncodedExamples.encode(tokenizer, data.test());
            }
            out.printf(
                    Locale.ROOT,
                    "train %d, validation %d, test %d examples%n",
                    train.size(),
                    validation.size(),
                    test.size());
            Map<String, Double> before = evaluate(model, block, test);
            out.printf(Locale.ROOT, "test before training: %s%n", format(before));

            TrainerSettings config = hp.trainerSettings()
                    .selectionMetric(task.selectionMetric())
                    .selectionBaseline(0)
                    .progress(true)
                    .logEvery(Math.max(1, train.size() / hp.batchSize() / 4))
                    .build();
            Loss ce = Loss.softmaxCrossEntropyLoss();
            AdapterTrainer<int[]> trainer = AdapterTrainer.forAdapter(
                    peft,
                    (outputs, labels) -> regression
                            ? outputs.head().reshape(-1).sub(labels).square().mean()
                            : ce.evaluate(new NDList(labels), outputs),
                    config);
            UpdateNormLog distances = distanceEvery == 0
                    ? null
                    : UpdateNormLog.create(
                            peft, AdaptedModel.DEFAULT_ADAPTER, distanceLog(output, seed), distanceEvery, p -> true);
            try {
                if (distances != null) {
                    distances.record(0);
                    trainer.afterStep(distances);
                }
                List<EpochLog> epochs = new ArrayList<>();
                Map<String, Map<String, Double>> testAt = new LinkedHashMap<>();
                BestWeights best = new BestWeights(block);
                trainer.evaluator(epoch -> evaluate(model, block, validation)).onNewBest((epoch, metrics) -> {
                    Map<String, Double> t = evaluate(model, block, test);
                    testAt.put(Integer.toString(epoch + 1), t);
                    best.save();
                    out.printf(Locale.ROOT, "epoch %d: validation improved, test %s%n", epoch + 1, format(t));
                });
                Random shuffle = new Random(seed);
                int[] lengths = train.lengths();
                AdapterTrainer.Result result = trainer.fit(
                        epoch -> {
                            List<int[]> batches = groupByLength
                                    ? LengthGroupedBatches.of(lengths, hp.batchSize(), shuffle)
                                    : train.batches(hp.batchSize(), shuffle);
                            if (epochBatches != null) {
                                epochBatches.epoch(epoch, lengths, batches);
                            }
                            return batches;
                        },
                        train.batches(hp.batchSize(), null).size(),
                        (m, rows) -> new AdapterTrainer.Batch(
                                train.inputs(m, rows), train.labels(m, rows, regression), rows.length));
                if (distances != null) {
                    distances.record(result.steps());
                }
                for (AdapterTrainer.EpochResult e : result.epochs()) {
                    String key = Integer.toString(e.epoch() + 1);
                    epochs.add(new EpochLog(e.epoch() + 1, e.meanLoss(), e.metrics(), testAt.get(key)));
                }
                int bestEpoch = result.bestEpoch() < 0 ? 0 : result.bestEpoch() + 1;
                Map<String, Double> atBest = bestEpoch == 0 ? Map.of() : testAt.get(Integer.toString(bestEpoch));
                out.printf(
                        Locale.ROOT,
                        "seed %d: best validation epoch %d, test %s (before training %s)%n",
                        seed,
                        bestEpoch,
                        format(atBest),
                        format(before));
                RunResult run = new RunResult(
                        seed, bestEpoch, before, atBest, trainable, epochs, (System.nanoTime() - start) / 1e9);
                GlueRunFiles.writeRunLog(output, run);
                if (bestEpoch > 0) {
                    best.restore(); // the weights of the reported epoch
                }
                boolean loraForm = LoraForm.exists(peft, AdaptedModel.DEFAULT_ADAPTER);
                if (loraForm) {
                    // SoRA's plain-LoRA form drops the ranks whose gate is zero (pruning)
                    try (LoraForm form = LoraForm.of(peft, AdaptedModel.DEFAULT_ADAPTER)) {
                        out.printf(
                                Locale.ROOT,
                                "exact plain-LoRA form: adapter parameters %,d -> %,d; rank per module %s%n",
                                ParameterCounts.ofAdapter(peft, AdaptedModel.DEFAULT_ADAPTER),
                                form.parameterCount(),
                                form.ranks());
                    }
                } else {
                    out.printf(Locale.ROOT, "%s has no exact plain-LoRA form (its merge rescales W)%n", hp.method());
                }
                if (export && bestEpoch > 0) {
                    // the adapter in PEFT's layout and, for methods that have one, its exact plain-LoRA form, which
                    // any PEFT version loads
                    PeftAdapters.Metadata metadata =
                            PeftAdapters.Metadata.infer(block).withBaseModel(source.baseModelNameOrPath());
                    Path adapter = PeftAdapters.save(
                            peft, AdaptedModel.DEFAULT_ADAPTER, output.resolve("seed-" + seed + "-adapter"), metadata);
                    Path asLora = loraForm
                            ? PeftAdapters.saveAsLora(
                                    peft,
                                    AdaptedModel.DEFAULT_ADAPTER,
                                    output.resolve("seed-" + seed + "-adapter-as-lora"),
                                    metadata)
                            : null;
                    // the adapter's own logits (unmerged) next to it, for check_java_export.py
                    GlueRunFiles.writeJavaLogits(adapter, model.getNDManager(), block, test);
                    if (asLora != null) {
                        GlueRunFiles.writeJavaLogits(asLora, model.getNDManager(), block, test);
                    }
                    out.printf(
                            Locale.ROOT,
                            "saved the best adapter to %s (as plain LoRA: %s)%n",
                            adapter,
                            asLora == null ? "none, the method has no plain-LoRA form" : asLora);
                    Block merged = peft.mergeAndUnload();
                    Path dir = output.resolve("seed-" + seed + "-merged");
                    HfExport.save(merged, loaded.config(), loaded.tokenizerJson(), dir);
                    GlueRunFiles.writeJavaLogits(dir, model.getNDManager(), merged, test);
                    out.printf(Locale.ROOT, "merged the best adapter into the model and exported it to %s%n", dir);
                }
                best.close();
                return run;
            } finally {
                trainer.close();
                if (distances != null) {
                    distances.close();
                }
            }
        }
    }

    private Map<String, Double> evaluate(Model model, Block block, EncodedExamples data) {
        int n = data.size();
        double[] predictions = new double[n];
        double[] references = new double[n];
        int offset = 0;
        for (int[] rows : data.batches(evalBatchSize, null)) {
            try (NDManager m = model.getNDManager().newSubManager()) {
                NDArray logits = block.forward(new ParameterStore(m, false), data.inputs(m, rows), false)
                        .head();
                float[] values = task.isRegression()
                        ? logits.reshape(-1).toFloatArray()
                        : logits.argMax(1)
                                .toType(ai.djl.ndarray.types.DataType.FLOAT32, false)
                                .toFloatArray();
                for (int i = 0; i < rows.length; i++) {
                    predictions[offset + i] = values[i];
                    references[offset + i] = data.label(rows[i]);
                }
                offset += rows.length;
            }
        }
        return GlueMetrics.compute(task, predictions, references);
    }

    static String format(Map<String, Double> metrics) {
        if (metrics == null || metrics.isEmpty()) {
            return "-";
        }
        StringBuilder sb = new StringBuilder();
        metrics.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ")
                .append(k)
                .append(' ')
                .append(String.format(Locale.ROOT, "%.4f", v)));
        return sb.toString();
    }
}
