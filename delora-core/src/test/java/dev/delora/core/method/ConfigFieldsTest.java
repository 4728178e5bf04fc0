package dev.delora.core.method;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.delora.core.sora.SoraSchedule;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Strict, typed reading of adapter_config.json fields, and the number encoding PEFT's files use. */
class ConfigFieldsTest {

    private static ConfigFields fields(String name, Object value) {
        return new ConfigFields(Map.of(name, value), "cfg.json");
    }

    private static void rejects(
            String name, Object value, java.util.function.Consumer<ConfigFields> read, String expected) {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> read.accept(fields(name, value)));
        assertTrue(e.getMessage().startsWith("cfg.json: field '" + name), e.getMessage());
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void integersMustBeIntegralJsonNumbersInRange() {
        assertEquals(4, fields("r", new BigDecimal("4")).integer("r", 8));
        assertEquals(4, fields("r", new BigDecimal("4.0")).integer("r", 8));
        assertEquals(8, new ConfigFields(Map.of(), "cfg.json").integer("r", 8));
        rejects("r", new BigDecimal("4.5"), f -> f.integer("r", 8), "must be an integer, got 4.5");
        rejects("r", "4", f -> f.integer("r", 8), "must be an integer, got \"4\"");
        rejects("r", new BigDecimal("18446744073709551620"), f -> f.integer("r", 8), "must be an integer in");
        rejects("r", Map.of(), f -> f.integer("r", 8), "an object");
        rejects(
                "rank_pattern",
                Map.of("q", new BigDecimal("4.7")),
                f -> f.intMap("rank_pattern"),
                "must be an integer, got 4.7");
    }

    @Test
    void numbersBooleansStringsAndEnumsAreTyped() {
        assertEquals(0.1f, fields("p", new BigDecimal("0.1")).number("p", 0));
        rejects("p", new BigDecimal("1e300"), f -> f.number("p", 0), "out of float range");
        rejects("b", "true", f -> f.bool("b", false), "must be true or false");
        rejects("s", new BigDecimal(1), f -> f.string("s", null), "must be a string");
        rejects("l", List.of("a", new BigDecimal(1)), f -> f.stringList("l"), "a string or a list of strings");
        rejects(
                "lambda_schedule",
                "cubic",
                f -> f.enumValue("lambda_schedule", SoraSchedule.class, null),
                "expected one of [linear, log_linear, exp_linear]");
    }

    @Test
    void longUntrustedValuesAreCutInMessages() {
        String huge = "x".repeat(1_000_000);
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> fields("r", huge).integer("r", 8));
        assertTrue(e.getMessage().length() < 200, "message of " + e.getMessage().length() + " chars");
    }

    @Test
    void encodesNumbersAsPeftFilesShowThem() {
        assertEquals(8L, FieldValues.number(8f));
        assertEquals("0.2", FieldValues.number(0.2f).toString());
        assertEquals("0.0003", FieldValues.number(3e-4f).toString());
        assertEquals("0.0", FieldValues.decimal(0f).toString());
        assertEquals("0.1", FieldValues.decimal(0.1f).toString());
        // the shortest decimal reads back as the same float
        for (float v : new float[] {0.1f, 1e-5f, 3.3333333f, 12.5f, 1e20f}) {
            assertEquals(v, new BigDecimal(FieldValues.number(v).toString()).floatValue());
        }
    }

    @Test
    void remembersWhatWasRead() {
        ConfigFields f = new ConfigFields(Map.of("r", new BigDecimal(2), "other", true), "cfg.json");
        f.integer("r", 8);
        assertEquals(List.of("other"), f.unread());
    }
}
