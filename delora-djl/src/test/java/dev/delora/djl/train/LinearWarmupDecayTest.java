package dev.delora.djl.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import org.junit.jupiter.api.Test;

/** Compares with transformers' get_linear_schedule_with_warmup factors recorded by training.py. */
class LinearWarmupDecayTest {

    @Test
    void floatWarmupAsDeloraPassesIt() {
        JsonObject s = TrainFixtures.json("schedules.json").getAsJsonObject("float");
        double warmup = 0.06 * 79 * 3; // glue_delora.py: 0.06 * len(train_loader) * epochs, unrounded
        assertEquals(s.get("warmup").getAsDouble(), warmup, 0.0);
        int total = s.get("total").getAsInt();
        LinearWarmupDecay sched = LinearWarmupDecay.ofRatio(0.06, total);
        assertEquals(warmup, sched.warmupSteps(), 1e-12);
        JsonArray ref = s.getAsJsonArray("factors");
        // Step 0, step 1, the last warmup step (14 < 14.22), the first decay step (15), and the last step.
        for (int step : new int[] {0, 1, 14, 15, total - 1, total}) {
            assertEquals(ref.get(step).getAsDouble(), sched.factor(step), 1e-12, "step " + step);
        }
        assertEquals(0.0, sched.factor(0), 0.0);
        for (int step = 0; step <= total; step++) {
            assertEquals(ref.get(step).getAsDouble(), sched.factor(step), 1e-12, "step " + step);
        }
    }

    @Test
    void integerAndZeroWarmup() {
        for (String key : new String[] {"int", "zero_warmup"}) {
            JsonObject s = TrainFixtures.json("schedules.json").getAsJsonObject(key);
            LinearWarmupDecay sched = new LinearWarmupDecay(
                    s.get("warmup").getAsDouble(), s.get("total").getAsInt());
            JsonArray ref = s.getAsJsonArray("factors");
            for (int step = 0; step < ref.size(); step++) {
                assertEquals(ref.get(step).getAsDouble(), sched.factor(step), 1e-12, key + " step " + step);
            }
        }
    }

    @Test
    void rejectsBadLengths() {
        assertThrows(IllegalArgumentException.class, () -> new LinearWarmupDecay(-1, 5));
        assertThrows(IllegalArgumentException.class, () -> new LinearWarmupDecay(1, 0));
        assertThrows(IllegalArgumentException.class, () -> LinearWarmupDecay.ofRatio(1.5, 10));
    }
}
