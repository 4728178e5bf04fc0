package dev.delora.examples.gsm8k;

import java.math.BigDecimal;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GSM8K's metric: exact match of the final number. {@link #strict} reads the number after the last {@code ####} (the
 * format the references and a fine-tuned model use; lm-evaluation-harness's {@code strict-match}), {@link #flexible}
 * the last number anywhere in the text (its {@code flexible-extract}, for models that answer in prose). Numbers are
 * compared after {@link #normalise}: thousands separators, a dollar sign and a trailing period are dropped and
 * {@code 18.00} equals {@code 18}.
 */
public final class Gsm8kAnswers {

    private static final Pattern STRICT = Pattern.compile("####\\s*\\$?\\s*(-?[0-9][0-9,]*(?:\\.[0-9]+)?)");
    private static final Pattern NUMBER = Pattern.compile("-?\\$?[0-9][0-9,]*(?:\\.[0-9]+)?");

    private Gsm8kAnswers() {}

    /**
     * Returns the number after the last {@code ####}, normalised.
     *
     * @param text a reference answer or a generation
     * @return the number, or empty if there is no {@code #### N}
     */
    public static Optional<String> strict(String text) {
        Matcher m = STRICT.matcher(text);
        String last = null;
        while (m.find()) {
            last = m.group(1);
        }
        return Optional.ofNullable(last).map(Gsm8kAnswers::normalise);
    }

    /**
     * Returns the last number in the text, normalised.
     *
     * @param text a generation
     * @return the number, or empty if the text has none
     */
    public static Optional<String> flexible(String text) {
        Matcher m = NUMBER.matcher(text);
        String last = null;
        while (m.find()) {
            last = m.group();
        }
        return Optional.ofNullable(last).map(Gsm8kAnswers::normalise);
    }

    /**
     * Normalises a number as written in an answer.
     *
     * @param number e.g. {@code "$1,000."}, {@code "18.00"}, {@code "-3"}
     * @return its plain decimal form, e.g. {@code "1000"}, {@code "18"}, {@code "-3"}
     * @throws IllegalArgumentException if it is not a number
     */
    public static String normalise(String number) {
        String s = number.trim().replace(",", "").replace("$", "");
        if (s.endsWith(".")) {
            s = s.substring(0, s.length() - 1);
        }
        try {
            BigDecimal d = new BigDecimal(s).stripTrailingZeros();
            return d.signum() == 0 ? "0" : d.toPlainString();
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a number: '" + number + "'", e);
        }
    }

    /**
     * Tells whether a generation's final answer equals the reference's.
     *
     * @param generation the model's text
     * @param reference the reference answer (ending in {@code #### N})
     * @param flexible also accept the last number of the text when there is no {@code #### N}
     * @return true on an exact match of the normalised numbers
     */
    public static boolean matches(String generation, String reference, boolean flexible) {
        Optional<String> want = strict(reference);
        Optional<String> got = strict(generation);
        if (got.isEmpty() && flexible) {
            got = flexible(generation);
        }
        return want.isPresent() && want.equals(got);
    }
}
