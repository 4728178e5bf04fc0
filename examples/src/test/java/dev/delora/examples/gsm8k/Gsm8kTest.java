package dev.delora.examples.gsm8k;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** GSM8K reading and its exact-match metric, against values computed from the files with Python's json module. */
class Gsm8kTest {

    @Test
    void theEmbeddedSampleReadsWithItsFinalAnswers() throws Exception {
        List<Gsm8kProblem> train = Gsm8kData.embedded("train");
        List<Gsm8kProblem> test = Gsm8kData.embedded("test");
        assertEquals(256, train.size());
        assertEquals(128, test.size());
        assertEquals("72", train.get(0).finalAnswer());
        assertEquals("18", test.get(0).finalAnswer());
        assertEquals("120", test.get(127).finalAnswer());
        // sums of the final numbers, from Python: sum(int(a.split('####')[-1].replace(',', '')))
        assertEquals(BigInteger.valueOf(556_498), sum(train));
        assertEquals(BigInteger.valueOf(287_926), sum(test));
        assertTrue(train.get(0).question().startsWith("Natalia sold clips to 48 of her friends"));
        assertThrows(IllegalArgumentException.class, () -> Gsm8kData.embedded("validation"));
    }

    private static BigInteger sum(List<Gsm8kProblem> problems) {
        return problems.stream().map(p -> new BigInteger(p.finalAnswer())).reduce(BigInteger.ZERO, BigInteger::add);
    }

    @Test
    void numbersAreNormalisedBeforeComparing() {
        assertEquals("1000", Gsm8kAnswers.normalise("$1,000."));
        assertEquals("18", Gsm8kAnswers.normalise("18.00"));
        assertEquals("-3", Gsm8kAnswers.normalise("-3"));
        assertEquals("0.5", Gsm8kAnswers.normalise("0.50"));
        assertEquals("0", Gsm8kAnswers.normalise("0.0"));
        assertThrows(IllegalArgumentException.class, () -> Gsm8kAnswers.normalise("twelve"));
    }

    @Test
    void strictReadsTheLastFinalMarkAndFlexibleTheLastNumber() {
        assertEquals(Optional.of("18"), Gsm8kAnswers.strict("She makes 9 * 2 = $18.\n#### 18"));
        assertEquals(Optional.of("1000"), Gsm8kAnswers.strict("#### 5\nno, wait\n#### $1,000"));
        assertEquals(Optional.empty(), Gsm8kAnswers.strict("The answer is 42."));
        assertEquals(Optional.of("42"), Gsm8kAnswers.flexible("The answer is 42."));
        assertEquals(Optional.of("7"), Gsm8kAnswers.flexible("It costs $3.50, and 7 more"));
        assertEquals(Optional.empty(), Gsm8kAnswers.flexible("no digits here"));

        String reference = "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\n#### 18";
        assertTrue(Gsm8kAnswers.matches("9 * 2 = 18\n#### 18.0", reference, false));
        assertFalse(Gsm8kAnswers.matches("#### 19", reference, true));
        assertFalse(Gsm8kAnswers.matches("so she makes 18 dollars", reference, false));
        assertTrue(Gsm8kAnswers.matches("so she makes 18 dollars", reference, true));
        // a final mark wins over a later stray number
        assertFalse(Gsm8kAnswers.matches("#### 17 (18 eggs?)", reference, true));
    }

    @Test
    void malformedLinesNameTheSourceAndLine() {
        String good = "{\"question\": \"q\", \"answer\": \"a\\n#### 3\"}";
        assertEquals("3", read(good + "\n\n" + good).get(1).finalAnswer());
        assertLine(good + "\n{\"question\": \"q\"}", "f.jsonl:2: expected exactly the fields");
        assertLine(
                good + "\n" + good + "\n{\"question\": \"q\", \"answer\": \"no mark\"}", "f.jsonl:3: answer does not");
        assertLine("{\"question\": 1, \"answer\": \"#### 3\"}", "f.jsonl:1: field 'question' must be a string");
        assertLine("{\"question\": \"q\", \"answer\": \"#### 3\"} x", "f.jsonl:1:");
        assertLine("[1, 2]", "f.jsonl:1: expected a JSON object");
    }

    private static List<Gsm8kProblem> read(String text) {
        try {
            return Gsm8kData.read(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)), "f.jsonl");
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    private static void assertLine(String text, String prefix) {
        String msg =
                assertThrows(IllegalArgumentException.class, () -> read(text)).getMessage();
        assertTrue(msg.startsWith(prefix), msg);
    }
}
