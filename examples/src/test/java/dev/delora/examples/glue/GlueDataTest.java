package dev.delora.examples.glue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import dev.delora.fixtures.Fixtures;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checks the RED loading of the bundled SST-2 sample and of a task folder. */
class GlueDataTest {

    @Test
    void embeddedSst2FollowsTheProtocol() throws IOException {
        GlueData.Splits s = GlueData.embeddedSst2(42);
        assertEquals(2000, s.train().size());
        assertEquals(436, s.validation().size());
        assertEquals(436, s.test().size());
        // The full GLUE SST-2 dev set: 444 positive, 428 negative (GLUE's published counts).
        long positives = s.validation().stream().filter(e -> e.label() == 1f).count()
                + s.test().stream().filter(e -> e.label() == 1f).count();
        assertEquals(444, positives);
        // The validation part opens with numpy's permutation of 872 at seed 42.
        int[] prefix = NumpyRandomStateTest.ints(JsonParser.parseString(Fixtures.text("glue/splits/sst2.json"))
                .getAsJsonObject()
                .getAsJsonObject("permutations")
                .getAsJsonArray("42"));
        for (int i = 0; i < prefix.length; i++) {
            assertEquals(prefix[i], s.validation().get(i).rowIndex(), "validation row " + i);
        }
        // methods.md section 5: dev row 794 is the first validation row at seed 42.
        assertEquals(794, s.validation().get(0).rowIndex());
        Set<Integer> rows = new HashSet<>();
        s.validation().forEach(e -> rows.add(e.rowIndex()));
        s.test().forEach(e -> rows.add(e.rowIndex()));
        assertEquals(872, rows.size());
    }

    @Test
    void loadsATaskFolder(@TempDir Path dir) throws IOException {
        Files.copy(Fixtures.path("glue/tsv/rte/dev.tsv"), dir.resolve("dev.tsv"));
        Files.copy(Fixtures.path("glue/tsv/rte/dev.tsv"), dir.resolve("train.tsv"));
        GlueData.Splits s = GlueData.load(GlueTask.RTE, dir, 46);
        assertEquals(6, s.train().size());
        assertEquals(3, s.validation().size());
        assertEquals(3, s.test().size());
        List<Integer> perm = new java.util.ArrayList<>();
        for (int i : new NumpyRandomState(46).permutation(6)) {
            perm.add(i);
        }
        assertEquals(
                perm.subList(0, 3),
                s.validation().stream().map(GlueExample::rowIndex).toList());
    }

    @Test
    void missingFileNamesWhatIsExpected(@TempDir Path dir) {
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> GlueData.load(GlueTask.MNLI, dir, 42));
        assertTrue(e.getMessage().contains("train.tsv") && e.getMessage().contains("MNLI"), e.getMessage());
    }
}
