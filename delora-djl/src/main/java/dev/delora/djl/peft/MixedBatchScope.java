package dev.delora.djl.peft;

/**
 * The handle {@link AdaptedModel#useAdapterNames(java.util.List)} returns: forward passes on the thread that opened
 * it are mixed-adapter batches until it is closed. {@link #close()} throws no checked exception, so a
 * try-with-resources block needs no {@code catch}.
 */
@FunctionalInterface
public interface MixedBatchScope extends AutoCloseable {

    /** Ends the mixed-adapter batches on this thread (restores what was in effect before it was opened). */
    @Override
    void close();
}
