package dev.delora.djl.hf.decoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.delora.core.array.ArrayOps;
import dev.delora.djl.hf.HfModule;

/**
 * The small modules of a Llama-family decoder, each registering its children under transformers' names: RMSNorm,
 * the token embedding, the SiLU-gated MLP and the list of layers. Projections are plain {@link Linear}s looked up by
 * name on every call, so an adapter swapped into the child list is the one that runs.
 */
final class DecoderBlocks {

    private DecoderBlocks() {}

    static Linear linear(int units, boolean bias) {
        return Linear.builder().setUnits(units).optBias(bias).build();
    }

    static NDArray call(Block b, ParameterStore ps, boolean training, PairList<String, Object> params, NDArray in) {
        return b.forward(ps, new NDList(in), training, params).head();
    }

    /** Adds a constant through a libtorch-owned scalar of {@code x}'s type (no Java-backed operand in a graph). */
    static NDArray plus(NDArray x, float c) {
        try (NDArray javaBacked = x.getManager().create(c);
                NDArray owned = javaBacked.duplicate();
                NDArray typed = owned.toType(x.getDataType(), true)) {
            return x.add(typed);
        }
    }

    /** LlamaRMSNorm: {@code weight * x / sqrt(mean(x²) + eps)}, the statistics in float32. */
    static final class RmsNorm extends HfModule {
        private final Parameter weight;
        private final float eps;

        RmsNorm(int size, float eps) {
            this.eps = eps;
            weight = addParameter(Parameter.builder()
                    .setName("weight")
                    .setType(Parameter.Type.GAMMA)
                    .optShape(new Shape(size))
                    .build());
        }

        @Override
        protected NDList forwardInternal(
                ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
            NDArray x = in.head();
            NDArray w = ps.getValue(weight, x.getDevice(), training);
            NDArray f = x.getDataType() == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, false);
            NDArray variance = f.square().mean(new int[] {-1}, true);
            NDArray normed = f.div(plus(variance, eps).sqrt());
            if (normed.getDataType() != x.getDataType()) {
                normed = normed.toType(x.getDataType(), false);
            }
            return new NDList(normed.mul(w));
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputs) {
            return new Shape[] {inputs[0]};
        }
    }

    /** LlamaMLP: {@code down_proj(silu(gate_proj(x)) * up_proj(x))}. */
    static final class Mlp extends HfModule {
        private final int hidden;

        Mlp(DecoderConfig cfg) {
            hidden = cfg.hiddenSize();
            Shape h = new Shape(1, cfg.hiddenSize());
            child("gate_proj", linear(cfg.intermediateSize(), cfg.mlpBias()), h);
            child("up_proj", linear(cfg.intermediateSize(), cfg.mlpBias()), h);
            child("down_proj", linear(cfg.hiddenSize(), cfg.mlpBias()), new Shape(1, cfg.intermediateSize()));
        }

        @Override
        protected NDList forwardInternal(
                ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
            NDArray x = in.head();
            NDArray gate = call(childBlock("gate_proj"), ps, training, params, x);
            NDArray up = call(childBlock("up_proj"), ps, training, params, x);
            NDArray act = gate.mul(Activation.sigmoid(gate));
            return new NDList(call(childBlock("down_proj"), ps, training, params, act.mul(up)));
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputs) {
            Shape s = inputs[0];
            return new Shape[] {s.slice(0, s.dimension() - 1).add(hidden)};
        }
    }

    /** LlamaDecoderLayer: pre-norm attention and pre-norm MLP, each with a residual. */
    static final class DecoderLayer extends HfModule {
        private final DecoderConfig cfg;

        DecoderLayer(DecoderConfig cfg) {
            this.cfg = cfg;
            Shape h = new Shape(1, 1, cfg.hiddenSize());
            child("self_attn", new DecoderAttention(cfg), h);
            child("mlp", new Mlp(cfg), h);
            child("input_layernorm", new RmsNorm(cfg.hiddenSize(), cfg.rmsNormEps()), h);
            child("post_attention_layernorm", new RmsNorm(cfg.hiddenSize(), cfg.rmsNormEps()), h);
        }

        /** Inputs: hidden, additive mask, cos, sin[, past key, past value]; outputs: hidden, key, value. */
        @Override
        protected NDList forwardInternal(
                ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
            NDArray h = in.get(0);
            NDArray x = call(childBlock("input_layernorm"), ps, training, params, h);
            NDList attnIn = new NDList(x);
            for (int i = 1; i < in.size(); i++) {
                attnIn.add(in.get(i));
            }
            NDList attn = childBlock("self_attn").forward(ps, attnIn, training, params);
            h = h.add(attn.get(0));
            NDArray m = call(
                    childBlock("mlp"),
                    ps,
                    training,
                    params,
                    call(childBlock("post_attention_layernorm"), ps, training, params, h));
            return new NDList(h.add(m), attn.get(1), attn.get(2));
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputs) {
            Shape kv = new Shape(inputs[0].get(0), cfg.numKeyValueHeads(), -1, cfg.headDim());
            return new Shape[] {inputs[0], kv, kv};
        }
    }

    /** Dropout on attention probabilities, only in training forwards and only when configured. */
    static NDArray dropout(NDArray x, float p, boolean training) {
        return p > 0 ? ArrayOps.dropout(x, p, training) : x;
    }
}
