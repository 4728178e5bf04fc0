package dev.delora.djl.persist;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.djl.peft.TestModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each state a killed save can leave, built file by file: the loader reads the old adapter or the new one (rolling a
 * finished weights write forward), and the next save cleans up.
 */
class AdapterFolderFilesTest {

    @TempDir
    Path tmp;

    private Path config(Path dir) {
        return dir.resolve(PeftAdapters.CONFIG_FILE);
    }

    private Path weights(Path dir) {
        return dir.resolve(PeftAdapters.WEIGHTS_FILE);
    }

    private float[] load(NDManager manager, Path dir, NDArray x) throws Exception {
        AdaptedModel peft = PeftAdapters.load(SaveLoop.base(manager), dir);
        return TestModels.forward(peft.block(), manager, x).toFloatArray();
    }

    @Test
    void everyInterruptedStateLoadsTheOldOrTheNewAdapter() throws Exception {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray x = manager.create(new float[] {1f, -2f, 0.5f, 0.25f, 3f, -1f}, new Shape(1, SaveLoop.IN));
            Path a = PeftAdapters.save(SaveLoop.adapter(SaveLoop.base(manager), true), tmp.resolve("a"));
            Path b = PeftAdapters.save(SaveLoop.adapter(SaveLoop.base(manager), false), tmp.resolve("b"));
            float[] outA = load(manager, a, x);
            float[] outB = load(manager, b, x);
            assertFalse(java.util.Arrays.equals(outA, outB));
            Path pending = AdapterFolderFiles.pending(tmp.resolve("x"));

            // killed after B's weights replaced A's, before B's config was renamed: roll forward to B
            Path dir = tmp.resolve("x");
            Files.createDirectories(dir);
            Files.copy(config(a), config(dir));
            Files.copy(weights(b), weights(dir));
            Files.copy(config(b), pending);
            assertArrayEquals(outB, load(manager, dir, x));

            // killed before B's weights were written: the pending config is not theirs, A stays
            Files.copy(weights(a), weights(dir), StandardCopyOption.REPLACE_EXISTING);
            assertArrayEquals(outA, load(manager, dir, x));

            // the first save into a folder, killed before the rename: only weights and the pending config
            Files.delete(config(dir));
            Files.copy(weights(b), weights(dir), StandardCopyOption.REPLACE_EXISTING);
            assertArrayEquals(outB, load(manager, dir, x));

            // the next save finishes what was left and removes every leftover
            Files.writeString(dir.resolve(".adapter_model.safetensors.0123.tmp"), "partial");
            PeftAdapters.save(SaveLoop.adapter(SaveLoop.base(manager), true), dir);
            assertArrayEquals(outA, load(manager, dir, x));
            try (var files = Files.list(dir)) {
                assertEquals(
                        List.of(PeftAdapters.CONFIG_FILE, PeftAdapters.WEIGHTS_FILE),
                        files.map(p -> p.getFileName().toString()).sorted().toList());
            }

            // files from two different saves, nothing to roll forward: refused, naming the folder
            Files.copy(config(b), config(dir), StandardCopyOption.REPLACE_EXISTING);
            String msg = assertThrows(IllegalArgumentException.class, () -> load(manager, dir, x))
                    .getMessage();
            assertTrue(msg.contains(dir.toString()) && msg.contains("another"), msg);
        }
    }
}
