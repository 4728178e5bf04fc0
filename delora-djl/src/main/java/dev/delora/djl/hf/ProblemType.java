package dev.delora.djl.hf;

/** The loss a sequence-classification head is trained with, as transformers chooses it. */
public enum ProblemType {
    /** One output, mean-squared error. */
    REGRESSION,
    /** Softmax cross-entropy over {@code num_labels} classes. */
    SINGLE_LABEL_CLASSIFICATION,
    /** Independent sigmoid per label, binary cross-entropy. */
    MULTI_LABEL_CLASSIFICATION
}
