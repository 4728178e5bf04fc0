package dev.delora.examples.robustness;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Locale;

/**
 * One cell of a robustness grid: one GLUE run.
 *
 * @param method the method
 * @param multiplier the learning-rate multiplier
 * @param lr the learning rate: the method's base rate × the multiplier
 * @param seed the seed
 */
public record GridCell(String method, double multiplier, double lr, int seed) {

    /**
     * Returns the cell's folder name.
     *
     * @return {@code <method>-x<multiplier>-seed<seed>}, e.g. {@code lora-x16-seed42}
     */
    public String id() {
        return method + "-x" + multiplierText(multiplier) + "-seed" + seed;
    }

    /**
     * Writes a multiplier without a needless fraction: 1, 0.5, 16.
     *
     * @param x the multiplier
     * @return the text
     */
    static String multiplierText(double x) {
        return BigDecimal.valueOf(x).stripTrailingZeros().toPlainString();
    }

    /**
     * Writes a learning rate with at most four significant digits: 0.0004, 0.0064 (scientific outside [1e-4, 1e4)).
     *
     * @param lr the learning rate
     * @return the text
     */
    static String lrText(double lr) {
        if (lr < 1e-4 || lr >= 1e4) {
            return String.format(Locale.ROOT, "%.3e", lr);
        }
        return BigDecimal.valueOf(lr)
                .round(new MathContext(4))
                .stripTrailingZeros()
                .toPlainString();
    }
}
