package dev.delora.examples.glue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * Loads a GLUE task for the RED / DeLoRA protocol: train from {@code train.tsv}; the official dev file split per
 * seed into a new validation and a new test part ({@link RedSplits}).
 */
public final class GlueData {

    /** Class-path folder of the bundled SST-2 sample (2000 train rows and the full 872-row dev set). */
    public static final String EMBEDDED_SST2 = "/dev/delora/examples/data/sst2/";

    private GlueData() {}

    /**
     * The three parts of a task under the RED protocol.
     *
     * @param task the task
     * @param train the training rows (all of {@code train.tsv}, in file order)
     * @param validation the new validation part of the dev set (model selection), in permutation order
     * @param test the new test part of the dev set (the reported metric), in permutation order
     */
    public record Splits(GlueTask task, List<GlueExample> train, List<GlueExample> validation, List<GlueExample> test) {
        /** Validates and copies. */
        public Splits {
            Objects.requireNonNull(task, "task");
            train = List.copyOf(train);
            validation = List.copyOf(validation);
            test = List.copyOf(test);
        }
    }

    /**
     * Loads a task folder in the original GLUE layout (e.g. {@code glue_data/RTE} holding {@code train.tsv} and
     * {@code dev.tsv}; {@code dev_matched.tsv} for MNLI).
     *
     * @param task the task
     * @param taskDir the task folder
     * @param seed the run seed (42–46 in the paper), which also picks the validation/test partition
     * @return train, validation and test
     * @throws NoSuchFileException naming the missing file and the folder expected to hold it
     * @throws IOException if a file cannot be read or is malformed ({@link GlueFormatException})
     */
    public static Splits load(GlueTask task, Path taskDir, long seed) throws IOException {
        Path train = require(taskDir, task.trainFileName(), task);
        Path dev = require(taskDir, task.devFileName(), task);
        return split(task, GlueTsvReader.read(task, train), GlueTsvReader.read(task, dev), seed);
    }

    /**
     * Checks that a task folder holds the task's train and dev files, without reading them (a command line checks
     * this before loading a model).
     *
     * @param task the task
     * @param taskDir the task folder
     * @throws NoSuchFileException naming the missing file and the folder expected to hold it
     */
    public static void checkTaskDir(GlueTask task, Path taskDir) throws NoSuchFileException {
        require(taskDir, task.trainFileName(), task);
        require(taskDir, task.devFileName(), task);
    }

    /**
     * Loads the SST-2 sample bundled with the examples (class path {@value #EMBEDDED_SST2}): 2000 rows of the
     * GLUE training set and the full dev set, split per seed like any task.
     *
     * @param seed the run seed
     * @return train (2000), validation (436) and test (436)
     * @throws IOException if the resources are missing or malformed
     */
    public static Splits embeddedSst2(long seed) throws IOException {
        GlueTask task = GlueTask.SST2;
        return split(
                task,
                resource(task, EMBEDDED_SST2 + task.trainFileName()),
                resource(task, EMBEDDED_SST2 + task.devFileName()),
                seed);
    }

    /**
     * Applies the RED split to already-read rows.
     *
     * @param task the task
     * @param train the training rows
     * @param dev the official dev rows in file order
     * @param seed the run seed
     * @return train, validation and test
     */
    public static Splits split(GlueTask task, List<GlueExample> train, List<GlueExample> dev, long seed) {
        List<List<GlueExample>> parts = RedSplits.split(task, dev.size(), seed).apply(dev);
        return new Splits(task, train, parts.get(0), parts.get(1));
    }

    private static Path require(Path dir, String name, GlueTask task) throws NoSuchFileException {
        Path p = dir.resolve(name);
        if (!Files.isRegularFile(p)) {
            throw new NoSuchFileException(
                    p.toString(),
                    null,
                    "GLUE " + task.id() + " needs " + name + " in " + dir
                            + " (the task folder of the original GLUE layout, e.g. glue_data/" + task.directoryName()
                            + ")");
        }
        return p;
    }

    private static List<GlueExample> resource(GlueTask task, String name) throws IOException {
        try (InputStream in = GlueData.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new NoSuchFileException(name, null, "class-path resource missing from the examples jar");
            }
            return GlueTsvReader.read(task, in, "classpath:" + name);
        }
    }
}
