/**
 * Speed and memory benchmarks of delora4j's adapters next to PyTorch + PEFT:
 * {@link dev.delora.benchmarks.BenchmarkMain} (the command line: one markdown table, each configuration in its own
 * JVM), its measurements ({@code Sections}, {@link dev.delora.benchmarks.LayerCase},
 * {@link dev.delora.benchmarks.EncoderCase}), the JMH benchmark {@link dev.delora.benchmarks.AdaptedLinearBenchmark},
 * and the result files' handling ({@code JsonMedian}, {@code ResultTable}).
 *
 * <p>Methods come from the registry ({@code dev.delora.core.method.AdapterMethods}) as
 * {@link dev.delora.benchmarks.MethodSpec}s, configured by PEFT field names; no code here names a method except
 * {@code MethodSpec}'s table of benchmark defaults, so a newly registered method is benchmarked without changes here.
 *
 * <p>Dependencies: {@code delora-core} and {@code delora-djl} (with DJL, the PyTorch engine, Gson, picocli and JMH);
 * nothing depends on this package, and nothing here runs during the build.
 */
package dev.delora.benchmarks;
