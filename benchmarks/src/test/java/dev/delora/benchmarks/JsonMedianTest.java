package dev.delora.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.util.List;
import org.junit.jupiter.api.Test;

class JsonMedianTest {

    private static JsonObject json(String s) {
        return JsonParser.parseString(s).getAsJsonObject();
    }

    @Test
    void numbersBecomeMediansAndKeysPresentInOneRunAreKept() {
        JsonObject combined = JsonMedian.combine(List.of(
                json("{\"meta\":{\"host\":\"a\"},\"train\":{\"8\":{\"lora\":{\"step_ms\":300,\"err\":\"x\"}}}}"),
                json("{\"meta\":{\"host\":\"b\"},"
                        + "\"train\":{\"8\":{\"lora\":{\"step_ms\":100},\"sora\":{\"step_ms\":7}}}}"),
                json("{\"train\":{\"8\":{\"lora\":{\"step_ms\":200}}}}")));
        JsonObject eight = combined.getAsJsonObject("train").getAsJsonObject("8");
        assertEquals(200.0, eight.getAsJsonObject("lora").get("step_ms").getAsDouble(), "median of 300, 100, 200");
        assertEquals("x", eight.getAsJsonObject("lora").get("err").getAsString());
        assertEquals(7.0, eight.getAsJsonObject("sora").get("step_ms").getAsDouble());
        assertEquals("a", combined.getAsJsonObject("meta").get("host").getAsString(), "strings: the first run's");
        JsonObject two = JsonMedian.combine(List.of(json("{\"v\":1}"), json("{\"v\":4}")));
        assertEquals(2.5, two.get("v").getAsDouble(), "two values: their mean");
        assertFalse(two.has("w"));
    }

    @Test
    void olderMethodKeysAreReadUnderTheirCurrentLabels() {
        JsonObject old = JsonMedian.canonicalKeys(json("{\"train\":{\"8\":{\"delora-paper\":{\"step_ms\":3}}}}"));
        JsonObject now = json("{\"train\":{\"8\":{\"delora:init_weights=paper\":{\"step_ms\":5}}}}");
        JsonObject eight =
                JsonMedian.combine(List.of(old, now)).getAsJsonObject("train").getAsJsonObject("8");
        assertEquals(1, eight.size(), eight.toString());
        assertEquals(
                4.0,
                eight.getAsJsonObject("delora:init_weights=paper")
                        .get("step_ms")
                        .getAsDouble());
    }
}
