package dev.delora.examples.glue;

import java.util.Objects;
import java.util.Optional;

/**
 * One GLUE example as the Hugging Face {@code glue} dataset holds it.
 *
 * @param textA the first (or only) text
 * @param textB the second text of a sentence-pair task, empty for CoLA and SST-2
 * @param label the class id (0, 1 or 2) or, for STS-B, the similarity score (float32, as Hugging Face stores it)
 * @param rowIndex the 0-based position of the row among the data rows of its file (header and blank lines not
 *     counted); the RED split permutes these positions
 */
public record GlueExample(String textA, Optional<String> textB, float label, int rowIndex) {

    /** Validates the fields. */
    public GlueExample {
        Objects.requireNonNull(textA, "textA");
        Objects.requireNonNull(textB, "textB (use Optional.empty() for single-sentence tasks)");
        if (!Float.isFinite(label)) {
            throw new IllegalArgumentException("label must be finite, got " + label);
        }
        if (rowIndex < 0) {
            throw new IllegalArgumentException("rowIndex must be >= 0, got " + rowIndex);
        }
    }

    /**
     * Returns the label as a class id.
     *
     * @return the class id
     * @throws IllegalStateException if the label is not a whole number (an STS-B score)
     */
    public int classId() {
        int id = (int) label;
        if (id != label) {
            throw new IllegalStateException("label " + label + " of row " + rowIndex + " is not a class id");
        }
        return id;
    }
}
