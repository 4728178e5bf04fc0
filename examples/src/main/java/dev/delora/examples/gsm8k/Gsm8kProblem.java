package dev.delora.examples.gsm8k;

import java.util.Objects;

/**
 * One GSM8K problem.
 *
 * @param question the word problem
 * @param answer the worked solution, with calculator annotations {@code <<expr=value>>}, ending in {@code #### N}
 */
public record Gsm8kProblem(String question, String answer) {

    /** Checks both fields are present and the answer has its final number. */
    public Gsm8kProblem {
        Objects.requireNonNull(question, "question");
        Objects.requireNonNull(answer, "answer");
        if (Gsm8kAnswers.strict(answer).isEmpty()) {
            throw new IllegalArgumentException("answer does not end with '#### <number>': " + tail(answer));
        }
    }

    /**
     * Returns the reference's final number, normalised ({@link Gsm8kAnswers#normalise}).
     *
     * @return e.g. {@code "1000"} for {@code #### 1,000}
     */
    public String finalAnswer() {
        return Gsm8kAnswers.strict(answer).orElseThrow();
    }

    private static String tail(String s) {
        return s.length() <= 60 ? s : "…" + s.substring(s.length() - 60);
    }
}
