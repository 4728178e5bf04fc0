package dev.delora.djl.peft;

/**
 * The handle {@link AdaptedModel#disableAdapters()} returns (PEFT's {@code with model.disable_adapter():}): the model
 * runs without adapters until it is closed. {@link #close()} throws no checked exception, so a try-with-resources
 * block needs no {@code catch}.
 */
@FunctionalInterface
public interface DisabledAdapters extends AutoCloseable {

    /** Turns the adapters back on. */
    @Override
    void close();
}
