package dev.delora.djl.hf.gguf;

/**
 * One tensor of a GGUF file.
 *
 * @param name the tensor name, e.g. {@code blk.0.attn_q.weight}
 * @param dims the dimensions in ggml order, innermost first ({@code ne[0]} is the row length): a weight of
 *     PyTorch shape {@code [out, in]} has {@code dims = {in, out}}
 * @param type the element type
 * @param offset the first byte, relative to the start of the data section
 * @param byteSize the number of bytes: {@code elementCount() / type.blockSize() * type.typeSize()}
 */
public record GgufTensorInfo(String name, long[] dims, GgufType type, long offset, long byteSize) {

    /**
     * Returns the number of elements.
     *
     * @return the product of the dimensions
     */
    public long elementCount() {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        return n;
    }

    /**
     * Returns the shape in PyTorch / numpy order (outermost first): the dimensions reversed.
     *
     * @return e.g. {@code [out, in]} for a linear weight
     */
    public long[] shape() {
        long[] s = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            s[i] = dims[dims.length - 1 - i];
        }
        return s;
    }
}
