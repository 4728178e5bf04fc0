package dev.delora.core;

import ai.djl.ndarray.NDArray;

/**
 * The frozen module as an adapter sees it in one forward pass, for methods whose update depends on the base weight
 * (DoRA rescales the rows of {@code W + ΔW}). All arrays are on the input's device; they belong to the caller.
 *
 * @param weight the base weight {@code W}, {@code [out, in]}, float32 (with any merged adapters in it)
 * @param bias the base bias {@code b}, {@code [out]}, float32, or {@code null}
 * @param output the base output {@code W x + b}, {@code [..., out]}, float32
 */
public record FrozenLinear(NDArray weight, NDArray bias, NDArray output) {

    /**
     * Returns {@code W x} without the bias, from the base output.
     *
     * @return {@code output − bias} (the output itself when there is no bias)
     */
    public NDArray product() {
        return bias == null ? output : output.sub(bias);
    }
}
