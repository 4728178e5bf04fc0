package dev.delora.benchmarks;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * JMH: forward + backward of a {@code Linear(768 → 768)}, plain or adapted, on {@code [32, 128, 768]} (section 1 of
 * the table). Run with
 * {@code java -cp 'benchmarks/target/delora-benchmarks.jar:benchmarks/target/lib/*' org.openjdk.jmh.Main
 * AdaptedLinearBenchmark}; the forked JVM gets libtorch's thread counts from {@code jvmArgsAppend} (2 intra-op, 1
 * inter-op, overridable with {@code -jvmArgsAppend}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
        value = 1,
        jvmArgsAppend = {
            "-Dai.djl.offline=true",
            "-Dai.djl.pytorch.num_threads=2",
            "-Dai.djl.pytorch.num_interop_threads=1",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"
        })
public class AdaptedLinearBenchmark {

    /**
     * {@code base} (the frozen plain Linear) or a {@link MethodSpec} ({@code NAME[:field=value]}); the list is
     * {@link MethodSpec#DEFAULT_METHODS} with the base (JMH needs the values literally; {@code -p method=...} runs
     * others).
     */
    @Param({"base", "lora", "delora", "delora:init_weights=paper", "loraxs", "sora"})
    public String method;

    /** Adapter rank. */
    @Param({"8"})
    public int rank;

    private LayerCase layer;

    /** Builds the layer and its input. */
    @Setup(Level.Trial)
    public void setUp() {
        layer = LayerCase.create(MethodSpec.parse(method), 32, 128, 768, rank);
    }

    /** Frees the native arrays. */
    @TearDown(Level.Trial)
    public void tearDown() {
        layer.close();
    }

    /** One forward + backward (the result lives in gradients, which JMH cannot elide: they are native). */
    @Benchmark
    public void forwardBackward() {
        layer.step();
    }
}
