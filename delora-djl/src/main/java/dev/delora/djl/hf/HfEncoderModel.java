package dev.delora.djl.hf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A Hugging Face {@code BertModel} / {@code RobertaModel}: embeddings, encoder and optional pooler, with children
 * named as in transformers ({@code embeddings.word_embeddings}, {@code encoder.layer.0.attention.self.query}, ...).
 *
 * <p>Input: {@code [input_ids (int64 B,S), attention_mask (int64 B,S)?, token_type_ids (int64 B,S)?]}; a missing
 * mask means no padding, missing token types mean zeros. Output: {@code [last_hidden_state (B,S,H),
 * pooler_output (B,H)?]}. Padded keys get the additive mask {@code (1 - mask) * float32.min}, as transformers' eager
 * attention. Dropout is active only in training forwards.
 */
public final class HfEncoderModel extends HfModule {

    private final HfConfig config;
    private final boolean pooling;

    /**
     * Builds an uninitialised base model.
     *
     * @param config the configuration
     * @param addPoolingLayer whether to add {@code pooler} (transformers: true for BertModel and for
     *     BertForSequenceClassification's base, false for RobertaForSequenceClassification's base)
     */
    public HfEncoderModel(HfConfig config, boolean addPoolingLayer) {
        this.config = config;
        this.pooling = addPoolingLayer;
        Shape h = new Shape(1, 1, config.hiddenSize());
        child("embeddings", new HfLayers.Embeddings(config), new Shape(1, 1));
        child("encoder", new HfLayers.Encoder(config), h);
        if (addPoolingLayer) {
            child("pooler", new HfLayers.Pooler(config), h);
        }
    }

    /**
     * Returns the configuration.
     *
     * @return the config
     */
    public HfConfig config() {
        return config;
    }

    /**
     * Returns whether the model has a pooler.
     *
     * @return true when {@code pooler_output} is produced
     */
    public boolean hasPooler() {
        return pooling;
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
        NDArray ids = in.get(0);
        if (ids.getShape().dimension() != 2) {
            throw new IllegalArgumentException("input_ids must be (batch, seq), got " + ids.getShape());
        }
        NDArray mask = in.size() > 1 && in.get(1) != null ? in.get(1) : ids.onesLike();
        NDArray types = in.size() > 2 && in.get(2) != null ? in.get(2) : ids.zerosLike();
        if (!mask.getShape().equals(ids.getShape()) || !types.getShape().equals(ids.getShape())) {
            throw new IllegalArgumentException("input_ids " + ids.getShape() + ", attention_mask " + mask.getShape()
                    + " and token_type_ids " + types.getShape() + " must have the same shape");
        }
        long b = ids.getShape().get(0);
        long s = ids.getShape().get(1);
        NDArray h = childBlock("embeddings")
                .forward(ps, new NDList(ids, types), training, params)
                .head();
        // transformers' get_extended_attention_mask: (1 - mask) * finfo(float32).min on the key axis
        NDArray additive = mask.toType(DataType.FLOAT32, false)
                .neg()
                .add(1f)
                .mul(-Float.MAX_VALUE)
                .reshape(b, 1, 1, s)
                .toType(h.getDataType(), false);
        h = childBlock("encoder")
                .forward(ps, new NDList(h, additive), training, params)
                .head();
        if (!pooling) {
            return new NDList(h);
        }
        NDArray pooled = childBlock("pooler")
                .forward(ps, new NDList(h), training, params)
                .head();
        return new NDList(h, pooled);
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputs) {
        Shape hidden = inputs[0].add(config.hiddenSize());
        return pooling ? new Shape[] {hidden, new Shape(inputs[0].get(0), config.hiddenSize())} : new Shape[] {hidden};
    }
}
