package dev.delora.core.array;

import ai.djl.engine.Engine;
import java.lang.reflect.Method;

/**
 * Turns PyTorch's per-thread gradient recording off while library code builds, restores, merges or trains adapters
 * outside a gradient collector.
 *
 * <p>DJL turns recording off only on the thread that started the engine, and a {@code GradientCollector} restores the
 * thread's previous mode when it closes. On any other thread (a server's worker, an executor) recording stays on
 * outside the collector, so evaluation passes and anything else computed from parameters between steps would build
 * graphs: a parameter initialised from other parameters would be tied to them (DeLoRA's frozen copies, DoRA's
 * magnitude), and a graph reused by a later step makes PyTorch refuse the second backward. The engine's own switch is
 * used through reflection: delora4j compiles against DJL's API only, and other engines need nothing.
 *
 * <pre>{@code try (GradMode off = GradMode.off()) { ... } }</pre>
 */
public final class GradMode implements AutoCloseable {

    private static final Method IS_GRAD_MODE;
    private static final Method SET_GRAD_MODE;

    static {
        Method is = null;
        Method set = null;
        try {
            Class<?> jni = Class.forName("ai.djl.pytorch.jni.JniUtils");
            is = jni.getMethod("isGradMode");
            set = jni.getMethod("setGradMode", boolean.class);
        } catch (ReflectiveOperationException | LinkageError e) {
            // not the PyTorch engine: nothing to switch
        }
        IS_GRAD_MODE = is;
        SET_GRAD_MODE = set;
    }

    private final boolean previous;
    private final boolean switched;

    private GradMode(boolean previous, boolean switched) {
        this.previous = previous;
        this.switched = switched;
    }

    /**
     * Turns recording off on this thread until {@link #close()}, which restores the previous mode.
     *
     * @return the handle
     */
    public static GradMode off() {
        if (IS_GRAD_MODE == null || !"PyTorch".equals(Engine.getInstance().getEngineName())) {
            return new GradMode(false, false);
        }
        boolean before = (Boolean) call(IS_GRAD_MODE);
        if (before) {
            call(SET_GRAD_MODE, false);
        }
        return new GradMode(before, before);
    }

    private static Object call(Method m, Object... args) {
        try {
            return m.invoke(null, args);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("Cannot switch PyTorch's gradient mode", e);
        }
    }

    @Override
    public void close() {
        if (switched) {
            call(SET_GRAD_MODE, previous);
        }
    }
}
