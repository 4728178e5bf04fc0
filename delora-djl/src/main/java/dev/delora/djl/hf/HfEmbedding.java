package dev.delora.djl.hf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Embedding;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * transformers' nn.Embedding: one parameter {@code weight} of shape (rows, dim); ids (B, S) give (B, S, dim). Shared
 * by the encoders and the decoders ({@code djl.hf.decoder}, whose tied {@code lm_head} reads {@link #weight()}).
 */
public final class HfEmbedding extends HfModule {
    private final Parameter weight;
    private final int dim;

    /**
     * Creates the table.
     *
     * @param rows the vocabulary (or position) size
     * @param dim the embedding size
     */
    public HfEmbedding(int rows, int dim) {
        this.dim = dim;
        weight = addParameter(Parameter.builder()
                .setName("weight")
                .setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(rows, dim))
                .build());
    }

    /**
     * Returns the table.
     *
     * @return the {@code weight} parameter, (rows, dim)
     */
    public Parameter weight() {
        return weight;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
        NDArray ids = in.head();
        return Embedding.embedding(ids, ps.getValue(weight, ids.getDevice(), training), SparseFormat.DENSE);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputs) {
        return new Shape[] {inputs[0].add(dim)};
    }
}
