package dev.delora.djl.persist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.djl.peft.TestModels;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a JVM that re-saves two different adapters into one folder, at random moments, and loads the folder after
 * each kill: the outputs must be exactly adapter A's or adapter B's, never a mix (e.g. B's weights at A's scaling),
 * and the next save must clean up what the killed one left.
 */
class CrashSafeSaveTest {

    private static final int KILLS = 20;

    @TempDir
    Path tmp;

    private static float[] outputs(NDManager manager, AdaptedModel peft, NDArray x) {
        return TestModels.forward(peft.block(), manager, x).toFloatArray();
    }

    @Test
    void aKilledSaveLeavesTheOldOrTheNewAdapter() throws Exception {
        Path dir = tmp.resolve("adapter");
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray x = manager.create(new float[] {0.5f, -1f, 2f, 0.25f, -0.75f, 1.5f}, new Shape(1, SaveLoop.IN));
            float[] a = outputs(manager, SaveLoop.adapter(SaveLoop.base(manager), true), x);
            float[] b = outputs(manager, SaveLoop.adapter(SaveLoop.base(manager), false), x);
            assertTrue(!java.util.Arrays.equals(a, b));
            Random random = new Random(42);
            int sawA = 0;
            int sawB = 0;
            for (int kill = 0; kill < KILLS; kill++) {
                Process child = new ProcessBuilder(
                                Path.of(System.getProperty("java.home"), "bin", "java")
                                        .toString(),
                                "-Xmx256m",
                                "-Dai.djl.offline=true",
                                "-cp",
                                System.getProperty("java.class.path"),
                                SaveLoop.class.getName(),
                                dir.toString())
                        .redirectErrorStream(true)
                        .start();
                try (BufferedReader out =
                        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    List<String> seen = new ArrayList<>();
                    while ((line = out.readLine()) != null && !line.equals("ready")) {
                        seen.add(line);
                    }
                    assertTrue(line != null, "the child died before saving: " + seen);
                    Thread.sleep(20 + random.nextInt(400));
                } finally {
                    child.destroyForcibly();
                    assertTrue(child.waitFor(30, TimeUnit.SECONDS));
                }
                AdaptedModel loaded = PeftAdapters.load(SaveLoop.base(manager), dir);
                float[] got = outputs(manager, loaded, x);
                boolean isA = java.util.Arrays.equals(a, got);
                boolean isB = java.util.Arrays.equals(b, got);
                assertTrue(isA || isB, "kill " + kill + ": the folder holds neither adapter (a mix)");
                sawA += isA ? 1 : 0;
                sawB += isB ? 1 : 0;
            }
            // a save in this JVM finishes or discards what the last killed one left, and leaves no temp file
            AdaptedModel a2 = SaveLoop.adapter(SaveLoop.base(manager), true);
            PeftAdapters.save(a2, dir);
            try (var files = Files.list(dir)) {
                assertEquals(
                        List.of(PeftAdapters.CONFIG_FILE, PeftAdapters.WEIGHTS_FILE),
                        files.map(p -> p.getFileName().toString()).sorted().toList());
            }
            assertTrue(sawA + sawB == KILLS, "A " + sawA + ", B " + sawB);
        }
    }
}
