package dev.delora.benchmarks;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs one measurement in a fresh JVM ({@link BenchmarkMain} with {@code --child}), so that its peak resident size
 * belongs to it alone, and reads back its result: the child prints one line {@value #RESULT}{@code {json}} on
 * stdout; everything else it prints is passed on to stderr. With {@code --no-fork} the measurement runs in this JVM.
 */
final class ChildProcess {

    /** The prefix of the child's result line. */
    static final String RESULT = "RESULT ";

    private ChildProcess() {}

    /**
     * Runs a measurement.
     *
     * @param o the parent's options (every child inherits them, see {@link BenchmarkMain#childArgs()})
     * @param childArgs what to measure ({@code --child ...} and its options)
     * @return the child's result
     * @throws Exception if the child fails or prints no result
     */
    static JsonObject run(BenchmarkMain o, List<String> childArgs) throws Exception {
        List<String> args = new ArrayList<>(o.childArgs());
        args.addAll(childArgs);
        if (o.noFork) {
            return Sections.run(BenchmarkMain.parse(args));
        }
        // The memory trace pre-touches a fixed heap, so that RSS growth during the run can only be native memory
        // (otherwise G1 touching more of its committed heap step after step looks the same as a native leak).
        List<String> heap =
                childArgs.contains("soak") ? List.of("-Xms512m", "-Xmx512m", "-XX:+AlwaysPreTouch") : List.of("-Xmx2g");
        List<String> cmd = new ArrayList<>(
                List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(heap);
        cmd.addAll(List.of(
                "-Dai.djl.offline=true",
                "-Dai.djl.pytorch.num_threads=" + o.threads,
                "-Dai.djl.pytorch.num_interop_threads=" + o.interopThreads,
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp",
                System.getProperty("java.class.path"),
                BenchmarkMain.class.getName()));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        String result = readResult(p);
        int rc = p.waitFor();
        if (rc != 0 || result == null) {
            throw new IllegalStateException("benchmark child " + childArgs + " failed (exit " + rc + ")");
        }
        return JsonParser.parseString(result).getAsJsonObject();
    }

    private static String readResult(Process p) throws IOException {
        String result = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith(RESULT)) {
                    result = line.substring(RESULT.length());
                } else {
                    System.err.println(line);
                }
            }
        }
        return result;
    }
}
