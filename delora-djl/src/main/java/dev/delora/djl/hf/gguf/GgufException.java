package dev.delora.djl.hf.gguf;

import java.io.IOException;

/**
 * Thrown when a GGUF file is malformed or holds something this package does not support; the message names the file,
 * the metadata key or tensor, what was found and what was expected.
 */
public final class GgufException extends IOException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what is wrong, naming the file and the key or tensor
     */
    public GgufException(String message) {
        super(message);
    }
}
