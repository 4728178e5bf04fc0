package dev.delora.examples.glue;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The eight GLUE tasks of the DeLoRA paper, with everything needed to read their original TSV files the way the
 * Hugging Face {@code glue} dataset builder does, and the metrics the {@code evaluate} library's {@code glue}
 * metric returns for them.
 *
 * <p>File layouts (original GLUE distribution): CoLA has no header and is read by position (column 1 the 0/1
 * label, column 3 the sentence); every other file has a header and is read by column name. MRPC's files start
 * with a UTF-8 byte-order mark, which the reader drops. MNLI's dev split is {@code dev_matched.tsv} (the paper
 * uses {@code validation_matched} only).
 */
public enum GlueTask {
    /** Corpus of Linguistic Acceptability; binary, selected by Matthews correlation. */
    COLA(
            "cola",
            "CoLA",
            "dev.tsv",
            false,
            null,
            null,
            null,
            List.of("unacceptable", "acceptable"),
            List.of("0", "1"),
            List.of(GlueMetrics.MATTHEWS_CORRELATION)),
    /** Stanford Sentiment Treebank, binary. */
    SST2(
            "sst2",
            "SST-2",
            "dev.tsv",
            true,
            "sentence",
            null,
            "label",
            List.of("negative", "positive"),
            List.of("0", "1"),
            List.of(GlueMetrics.ACCURACY)),
    /** Microsoft Research Paraphrase Corpus; selected by accuracy, F1 also reported. */
    MRPC(
            "mrpc",
            "MRPC",
            "dev.tsv",
            true,
            "#1 String",
            "#2 String",
            "Quality",
            List.of("not_equivalent", "equivalent"),
            List.of("0", "1"),
            List.of(GlueMetrics.ACCURACY, GlueMetrics.F1)),
    /** Quora Question Pairs; selected by accuracy, F1 also reported. */
    QQP(
            "qqp",
            "QQP",
            "dev.tsv",
            true,
            "question1",
            "question2",
            "is_duplicate",
            List.of("not_duplicate", "duplicate"),
            List.of("0", "1"),
            List.of(GlueMetrics.ACCURACY, GlueMetrics.F1)),
    /** Semantic Textual Similarity Benchmark; regression (one output), selected by Pearson, Spearman also reported. */
    STSB(
            "stsb",
            "STS-B",
            "dev.tsv",
            true,
            "sentence1",
            "sentence2",
            "score",
            List.of(),
            List.of(),
            List.of(GlueMetrics.PEARSON, GlueMetrics.SPEARMANR)),
    /** Multi-Genre NLI (matched dev set); three classes. */
    MNLI(
            "mnli",
            "MNLI",
            "dev_matched.tsv",
            true,
            "sentence1",
            "sentence2",
            "gold_label",
            List.of("entailment", "neutral", "contradiction"),
            List.of("entailment", "neutral", "contradiction"),
            List.of(GlueMetrics.ACCURACY)),
    /** Question NLI (from SQuAD), binary. */
    QNLI(
            "qnli",
            "QNLI",
            "dev.tsv",
            true,
            "question",
            "sentence",
            "label",
            List.of("entailment", "not_entailment"),
            List.of("entailment", "not_entailment"),
            List.of(GlueMetrics.ACCURACY)),
    /** Recognizing Textual Entailment, binary. */
    RTE(
            "rte",
            "RTE",
            "dev.tsv",
            true,
            "sentence1",
            "sentence2",
            "label",
            List.of("entailment", "not_entailment"),
            List.of("entailment", "not_entailment"),
            List.of(GlueMetrics.ACCURACY));

    /** CoLA's fixed layout: source, label, original mark, sentence. */
    static final int COLA_COLUMNS = 4;

    static final int COLA_LABEL_COLUMN = 1;
    static final int COLA_SENTENCE_COLUMN = 3;

    // A plain decimal number as Python's float() reads GLUE scores; excludes NaN/Infinity and Java's "1f"/"0x1p3".
    private static final Pattern DECIMAL = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");

    private final String id;
    private final String directoryName;
    private final String devFileName;
    private final boolean hasHeader;
    private final String textColumnA;
    private final String textColumnB;
    private final String labelColumn;
    private final List<String> labelNames;
    private final List<String> rawLabels;
    private final List<String> metricNames;

    GlueTask(
            String id,
            String directoryName,
            String devFileName,
            boolean hasHeader,
            String textColumnA,
            String textColumnB,
            String labelColumn,
            List<String> labelNames,
            List<String> rawLabels,
            List<String> metricNames) {
        this.id = id;
        this.directoryName = directoryName;
        this.devFileName = devFileName;
        this.hasHeader = hasHeader;
        this.textColumnA = textColumnA;
        this.textColumnB = textColumnB;
        this.labelColumn = labelColumn;
        this.labelNames = labelNames;
        this.rawLabels = rawLabels;
        this.metricNames = metricNames;
    }

    /**
     * Returns the Hugging Face / {@code evaluate} config name, e.g. {@code "sst2"}.
     *
     * @return the lower-case task id
     */
    public String id() {
        return id;
    }

    /**
     * Returns the folder name of the task in the GLUE distribution, e.g. {@code "SST-2"}.
     *
     * @return the directory name
     */
    public String directoryName() {
        return directoryName;
    }

    /**
     * Returns the training file name ({@code train.tsv} for every task).
     *
     * @return the file name
     */
    public String trainFileName() {
        return "train.tsv";
    }

    /**
     * Returns the official dev file name ({@code dev_matched.tsv} for MNLI, {@code dev.tsv} otherwise).
     *
     * @return the file name
     */
    public String devFileName() {
        return devFileName;
    }

    /**
     * Tells whether the TSV files start with a header line (all but CoLA).
     *
     * @return true if the first line names the columns
     */
    public boolean hasHeader() {
        return hasHeader;
    }

    /**
     * Returns the header name of the first text column; null for CoLA, which is read by position.
     *
     * @return the column name or null
     */
    public String textColumnA() {
        return textColumnA;
    }

    /**
     * Returns the header name of the second text column, or null for single-sentence tasks (CoLA, SST-2).
     *
     * @return the column name or null
     */
    public String textColumnB() {
        return textColumnB;
    }

    /**
     * Returns the header name of the label column; null for CoLA, which is read by position.
     *
     * @return the column name or null
     */
    public String labelColumn() {
        return labelColumn;
    }

    /**
     * Tells whether the task has sentence pairs.
     *
     * @return true for MRPC, QQP, STS-B, MNLI, QNLI and RTE
     */
    public boolean isPairTask() {
        return textColumnB != null;
    }

    /**
     * Tells whether the task is a regression (STS-B, scores 0–5, trained with MSE).
     *
     * @return true for STS-B
     */
    public boolean isRegression() {
        return this == STSB;
    }

    /**
     * Returns the number of model outputs: 3 for MNLI, 1 for STS-B (regression), 2 otherwise.
     *
     * @return the number of labels
     */
    public int numLabels() {
        return isRegression() ? 1 : labelNames.size();
    }

    /**
     * Returns the class names in id order, as the Hugging Face {@code glue} dataset's {@code ClassLabel}
     * (e.g. MNLI: entailment=0, neutral=1, contradiction=2); empty for STS-B.
     *
     * @return the class names
     */
    public List<String> labelNames() {
        return labelNames;
    }

    /**
     * Returns the label values accepted in the TSV files, in id order (e.g. {@code "0","1"} or
     * {@code "entailment","not_entailment"}); empty for STS-B, whose label is a decimal score.
     *
     * @return the allowed raw labels
     */
    public List<String> allowedRawLabels() {
        return rawLabels;
    }

    /**
     * Returns the names of the values the {@code evaluate} library's {@code glue} metric returns for this task,
     * in its order: {@code matthews_correlation} (CoLA); {@code pearson, spearmanr} (STS-B);
     * {@code accuracy, f1} (MRPC, QQP); {@code accuracy} otherwise.
     *
     * @return the metric names
     */
    public List<String> metricNames() {
        return metricNames;
    }

    /**
     * Returns the metric that selects the model: the first value of the {@code glue} metric's result, as RED and
     * DeLoRA use it.
     *
     * @return the selection metric name
     */
    public String selectionMetric() {
        return metricNames.get(0);
    }

    /**
     * Parses a raw TSV label into the float the examples carry: the class id for classification tasks (the
     * index in {@link #allowedRawLabels()}), the score rounded to float32 for STS-B (as the Hugging Face
     * dataset stores it).
     *
     * @param raw the label text from the file
     * @return the label value
     * @throws IllegalArgumentException naming the allowed labels if the value is not one of them, or if an STS-B
     *     score is not a decimal number
     */
    public float parseLabel(String raw) {
        if (isRegression()) {
            if (!DECIMAL.matcher(raw).matches()) {
                throw new IllegalArgumentException(
                        "unparsable " + id + " score '" + raw + "': expected a decimal number");
            }
            return Float.parseFloat(raw);
        }
        int idx = rawLabels.indexOf(raw);
        if (idx < 0) {
            throw new IllegalArgumentException(
                    "unexpected " + id + " label '" + raw + "'; allowed labels: " + String.join(", ", rawLabels));
        }
        return idx;
    }

    /**
     * Finds a task by name: the Hugging Face id ({@code "sst2"}), the GLUE folder name ({@code "SST-2"}) or the
     * constant name, ignoring case.
     *
     * @param name the task name
     * @return the task
     * @throws IllegalArgumentException listing the known tasks if none matches
     */
    public static GlueTask of(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        for (GlueTask t : values()) {
            if (t.id.equals(n)
                    || t.directoryName.toLowerCase(Locale.ROOT).equals(n)
                    || t.name().toLowerCase(Locale.ROOT).equals(n)) {
                return t;
            }
        }
        throw new IllegalArgumentException("Unknown GLUE task '" + name + "'; known tasks: "
                + Arrays.stream(values()).map(GlueTask::id).collect(Collectors.joining(", ")));
    }
}
