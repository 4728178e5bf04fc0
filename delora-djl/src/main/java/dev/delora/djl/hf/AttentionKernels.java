package dev.delora.djl.hf;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import dev.delora.core.array.ArrayOps;
import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PyTorch's fused {@code scaled_dot_product_attention}, reached through a bundled TorchScript module
 * ({@code sdpa.pt}, written by {@code src-test-fixtures/parity/attention_kernel.py}), since DJL 0.35.1's PyTorch
 * JNI binds no such operation. DJL runs TorchScript modules under autograd, so gradients flow through it as through
 * any DJL operation; the module has no parameters and works on any device the arrays are on. Grouped-query keys and
 * values are repeated to the query heads inside the module, as transformers does before its own call when there is a
 * mask: torch 2.7 on CPU runs its fused (flash) backend then, while with {@code enable_gqa} and a mask it falls back
 * to the unfused math backend. With attention dropout on (training an encoder whose
 * {@code attention_probs_dropout_prob} is not 0), torch on CPU uses the math backend too, as it does for PEFT.
 *
 * <p>The module is loaded once per JVM, on first use, into a model that lives as long as the JVM. It is called with
 * {@code training = true} every time: the module holds no dropout layers of its own (the dropout probability is an
 * argument), and a fixed mode keeps DJL's per-block mode switch from racing between threads. Whether a graph is
 * recorded follows the calling thread's gradient mode, exactly as for eager operations.
 */
public final class AttentionKernels {

    private static final Logger LOG = LoggerFactory.getLogger(AttentionKernels.class);
    private static final String RESOURCE = "sdpa.pt";
    private static final String GRAPH_OPTIMIZER = "ai.djl.pytorch.graph_optimizer";

    private AttentionKernels() {}

    /**
     * Attention with the implementation {@link AttentionImplementation#selected()} names.
     *
     * @param q queries (B, H, T, D)
     * @param k keys (B, Hkv, S, D); {@code H} must be a multiple of {@code Hkv} (grouped-query attention)
     * @param v values (B, Hkv, S, D)
     * @param mask additive mask broadcastable to (B, H, T, S), e.g. (B, 1, 1, S) or (B, 1, T, S)
     * @param dropout dropout probability on the attention probabilities (0 outside training)
     * @param scale the factor on {@code q·kᵀ}, usually {@code 1/sqrt(D)}
     * @return the context (B, T, H·D), heads concatenated per position
     */
    public static NDArray attend(NDArray q, NDArray k, NDArray v, NDArray mask, float dropout, float scale) {
        Block kernel = AttentionImplementation.selected() == AttentionImplementation.SDPA ? kernelFor(q) : null;
        if (kernel != null) {
            NDArray options = q.getManager().create(new float[] {dropout, scale});
            NDList out =
                    kernel.forward(new ParameterStore(q.getManager(), false), new NDList(q, k, v, mask, options), true);
            options.close();
            return out.singletonOrThrow();
        }
        return eager(q, k, v, mask, dropout, scale);
    }

    /**
     * Attention as separate DJL operations: {@code dropout(softmax(q·kᵀ·scale + mask))·v}, key/value heads repeated
     * for grouped-query attention as transformers' {@code repeat_kv}.
     *
     * @param q queries (B, H, T, D)
     * @param k keys (B, Hkv, S, D)
     * @param v values (B, Hkv, S, D)
     * @param mask additive mask broadcastable to (B, H, T, S)
     * @param dropout dropout probability on the attention probabilities
     * @param scale the factor on {@code q·kᵀ}
     * @return the context (B, T, H·D)
     */
    public static NDArray eager(NDArray q, NDArray k, NDArray v, NDArray mask, float dropout, float scale) {
        long b = q.getShape().get(0);
        long heads = q.getShape().get(1);
        long t = q.getShape().get(2);
        long d = q.getShape().get(3);
        int groups = Math.toIntExact(heads / k.getShape().get(1));
        NDArray keys = repeatKv(k, groups);
        NDArray values = repeatKv(v, groups);
        // the scale goes on q ([B, H, T, D]) rather than on the scores ([B, H, T, S]): one smaller pass
        NDArray scores =
                ArrayOps.scaled(q, scale).matMul(keys.transpose(0, 1, 3, 2)).add(mask);
        NDArray probs = scores.softmax(-1);
        if (dropout > 0) {
            probs = ArrayOps.dropout(probs, dropout, true);
        }
        return probs.matMul(values).transpose(0, 2, 1, 3).reshape(b, t, heads * d);
    }

    /** transformers' repeat_kv: (B, kv, S, D) to (B, kv·groups, S, D), each kv head repeated for its group. */
    private static NDArray repeatKv(NDArray x, int groups) {
        if (groups == 1) {
            return x;
        }
        var s = x.getShape();
        return x.expandDims(2)
                .broadcast(s.get(0), s.get(1), groups, s.get(2), s.get(3))
                .reshape(s.get(0), s.get(1) * groups, s.get(2), s.get(3));
    }

    /**
     * Whether attention on arrays of this manager runs the fused kernel when {@link AttentionImplementation#SDPA} is
     * selected: the manager belongs to the PyTorch engine and the bundled module loaded.
     *
     * @param manager the manager of the attention's inputs
     * @return true when the fused kernel is used, false when {@link #attend} falls back to {@link #eager}
     */
    public static boolean fusedAvailable(NDManager manager) {
        return "PyTorch".equals(manager.getEngine().getEngineName()) && Holder.KERNEL != null;
    }

    /** The loaded kernel when the arrays belong to PyTorch and it loaded, else null. */
    private static Block kernelFor(NDArray q) {
        if (!"PyTorch".equals(q.getManager().getEngine().getEngineName())) {
            Holder.warnOnce("arrays of engine " + q.getManager().getEngine().getEngineName());
            return null;
        }
        return Holder.KERNEL;
    }

    /** Lazy, thread-safe loading (class initialisation), once per JVM. */
    private static final class Holder {
        private static volatile boolean warned;
        // libtorch's graph-executor optimisation flag (thread-local), through DJL's engine class if present
        private static final MethodHandle SET_OPTIMIZE = optimizeSetter();
        // the model is held for the JVM's life: DJL releases a model's native handle once the model is collected
        private static Model model;
        static final Block KERNEL = load();

        private static Block load() {
            try (InputStream in = AttentionKernels.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    warnOnce("resource " + RESOURCE + " missing from the classpath");
                    return null;
                }
                model = Model.newInstance("delora-sdpa", Device.cpu(), "PyTorch");
                model.load(in, Map.of());
                return model.getBlock();
            } catch (IOException | MalformedModelException | RuntimeException e) {
                warnOnce("loading " + RESOURCE + " failed: " + e);
                return null;
            }
        }

        /**
         * Sets the calling thread's TorchScript graph-executor optimisation. Off for the kernel: with it on, libtorch
         * profiles and re-specialises the graph for every new sequence length and differentiates it itself, which
         * measured several times slower and larger than the plain call on variable-length training batches; the
         * single fused operation has nothing to optimise. Restored afterwards to DJL's setting (default on).
         */
        static void optimizeGraphs(boolean on) {
            if (SET_OPTIMIZE != null) {
                try {
                    SET_OPTIMIZE.invokeExact(on);
                } catch (Throwable e) {
                    throw new IllegalStateException("setGraphExecutorOptimize failed", e);
                }
            }
        }

        private static MethodHandle optimizeSetter() {
            try {
                Class<?> jni = Class.forName("ai.djl.pytorch.jni.JniUtils");
                return MethodHandles.publicLookup()
                        .findStatic(jni, "setGraphExecutorOptimize", MethodType.methodType(void.class, boolean.class));
            } catch (ReflectiveOperationException | LinkageError e) {
                return null;
            }
        }

        static void warnOnce(String why) {
            if (!warned) {
                warned = true;
                LOG.warn("scaled_dot_product_attention kernel unavailable ({}); using eager attention", why);
            }
        }
    }
}
