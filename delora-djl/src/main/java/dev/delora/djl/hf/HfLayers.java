package dev.delora.djl.hf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.delora.core.array.ArrayOps;
import java.util.List;

/**
 * The building blocks of Hugging Face BERT / RoBERTa, one class per transformers module, each registering its
 * children under transformers' names. Every projection is a plain {@link Linear} held in a non-final field, so an
 * adapter can wrap it (swapping both the child entry and the field).
 */
final class HfLayers {

    private HfLayers() {}

    static Linear linear(int units) {
        return Linear.builder().setUnits(units).optBias(true).build();
    }

    static NDArray call(Block b, ParameterStore ps, boolean training, PairList<String, Object> params, NDArray... in) {
        return b.forward(ps, new NDList(in), training, params).head();
    }

    static NDArray dropout(NDArray x, float p, boolean training) {
        return ArrayOps.dropout(x, p, training);
    }

    /**
     * The first token (B,1,H) of (B,S,H), copied: a strided view gave GEMM results that differed in the last bits
     * between two instances of one model (bit-identity tests), and {@code duplicate()} would cut it from autograd.
     */
    static NDArray firstToken(NDArray h) {
        return ArrayOps.scaled(h.get(":, :1, :"), 1f);
    }

    static NDArray act(String name, NDArray x) {
        return switch (name) {
            case "gelu" -> Activation.gelu(x);
            case "relu" -> Activation.relu(x);
            // tanh approximation (transformers' NewGELUActivation / gelu_pytorch_tanh): 0.5·x·(1 + tanh(√(2/π)·
            // (x + 0.044715·x³))), written as x·sigmoid(2·√(2/π)·(x + 0.044715·x³)), the same function with no
            // additive constant (constants go through ArrayOps.scaled, see there why)
            default -> {
                NDArray inner = ArrayOps.scaled(x.square().mul(x), 0.044715f).add(x);
                yield x.mul(Activation.sigmoid(ArrayOps.scaled(inner, (float) (2 * Math.sqrt(2 / Math.PI)))));
            }
        };
    }

    /** transformers' nn.LayerNorm: parameters {@code weight} and {@code bias}, normalising the last axis. */
    static final class HfLayerNorm extends HfModule {
        private final Parameter weight;
        private final Parameter bias;
        private final int size;
        private final float eps;

        HfLayerNorm(int size, float eps) {
            this.size = size;
            this.eps = eps;
            weight = addParameter(Parameter.builder()
                    .setName("weight")
                    .setType(Parameter.Type.GAMMA)
                    .optShape(new Shape(size))
                    .build());
            bias = addParameter(Parameter.builder()
                    .setName("bias")
                    .setType(Parameter.Type.BETA)
                    .optShape(new Shape(size))
                    .build());
        }

        @Override
        protected NDList forwardInternal(
                ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
            NDArray x = in.head();
            return LayerNorm.layerNorm(
                    x,
                    new Shape(size),
                    ps.getValue(weight, x.getDevice(), training),
                    ps.getValue(bias, x.getDevice(), training),
                    eps);
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputs) {
            return new Shape[] {inputs[0]};
        }
    }

    /** BertEmbeddings / RobertaEmbeddings: word + position + token type, LayerNorm, dropout. */
    static final class Embeddings extends HfModule {
        private final HfConfig cfg;

        Embeddings(HfConfig cfg) {
            this.cfg = cfg;
            Shape ids = new Shape(1, 1);
            child("word_embeddings", new HfEmbedding(cfg.vocabSize(), cfg.hiddenSize()), ids);
            child("position_embeddings", new HfEmbedding(cfg.maxPositionEmbeddings(), cfg.hiddenSize()), ids);
            child("token_type_embeddings", new HfEmbedding(cfg.typeVocabSize(), cfg.hiddenSize()), ids);
            child(
                    "LayerNorm",
                    new HfLayerNorm(cfg.hiddenSize(), cfg.layerNormEps()),
                    new Shape(1, 1, cfg.hiddenSize()));
        }

        /** Inputs: input_ids (B,S), token_type_ids (B,S). */
        @Override
        protected NDList forwardInternal(
                ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
            NDArray ids = in.get(0);
            NDArray types = in.get(1);
            long seq = ids.getShape().get(1);
            NDArray positions;
            if ("roberta".equals(cfg.modelType())) {
                // create_position_ids_from_input_ids: padding keeps padding_idx, tokens count from padding_idx + 1
                NDArray mask = ids.neq(cfg.padTokenId()).toType(DataType.INT64, false);
                positions = mask.cumSum(1).mul(mask).add(cfg.padTokenId());
            } else {
                positions = ids.getManager()
                        .arange(0, seq, 1, DataType.INT64, ids.getDevice())
                        .reshape(1, seq);
            }
            long maxPos = cfg.maxPositionEmbeddings();
            if (("roberta".equals(cfg.modelType()) ? seq + cfg.padTokenId() : seq - 1) >= maxPos) {
                throw new IllegalArgumentException("sequence length " + seq + " exceeds max_position_embeddings "
                        + maxPos
                        + ("roberta".equals(cfg.modelType()) ? " (RoBERTa positions start at pad_token_id+1)" : ""));
            }
            NDArray h = call(childBlock("word_embeddings"), ps, training, params, ids)
                    .add(call(childBlock("token_type_embeddings"), ps, training, params, types))
                    .add(call(childBlock("position_embeddings"), ps, training, params, positions));
            h = call(childBlock("LayerNorm"), ps, training, params, h);
            return new NDList(dropout(h, cfg.hiddenDropoutProb(), training));
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputs) {
            return new Shape[] {inputs[0].add(cfg.hiddenSize())};
        }
    }

    /** BertSelfAttention ("self"): query, key, value; scaled dot product with an additive mask. */
    static final class SelfAttention extends HfModule {
        private final HfConfig cfg;
        Linear query;
        Linear key;
        Linear value;

        SelfAttention(HfConfig cfg) {
            this.cfg = cfg;
            Shape in = new Shape(1, cfg.hiddenSize());
            query = child("query", linear(cfg.hiddenSize()), in);
            key = child("key", linear(cfg.hiddenSize()), in);
            value = child("value", linear(cfg.hiddenSize()), in);
        }

        /** Inputs: hidden (B,S,H), additive mask (B,1,1,S). */
        @Override
        protected NDList forwardInternal(
                ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
            NDArray h = in.get(0);
            NDArray mask = in.get(1);
            long b = h.getShape().get(0);
            long s = h.getShape().get(1);
            int nh = cfg.numAttentionHeads();
            int hd = cfg.headSize();
            // the classifier's last layer: the first token's query only (FirstTokenOnly), keys and values of all
            boolean first = FirstTokenOnly.requested(params);
            NDArray q = first
                    ? heads(call(query, ps, training, params, firstToken(h)), b, 1, nh, hd)
                    : heads(call(query, ps, training, params, h), b, s, nh, hd);
            NDArray k = heads(call(key, ps, training, params, h), b, s, nh, hd);
            NDArray v = heads(call(value, ps, training, params, h), b, s, nh, hd);
            float dropout = training ? cfg.attentionProbsDropoutProb() : 0f;
            NDArray ctx = AttentionKernels.attend(q, k, v, mask, dropout, (float) (1 / Math.sqrt(hd)));
            return new NDList(ctx);
        }

        private static NDArray heads(NDArray x, long b, long s, int nh, int hd) {
            return x.reshape(b, s, nh, hd).transpose(0, 2, 1, 3);
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputs) {
            return new Shape[] {inputs[0]};
        }
    }

    /** BertSelfOutput / BertOutput: dense, dropout, residual, LayerNorm. */
    static final class DenseResidualNorm extends HfModule {
        private final HfConfig cfg;
        Linear dense;

        DenseResidualNorm(HfConfig cfg, int inFeatures) {
            this.cfg = cfg;
            dense = child("dense", linear(cfg.hiddenSize()), new Shape(1, inFeatures));
            child(
                    "LayerNorm",
                    new HfLayerNorm(cfg.hiddenSize(), cfg.layerNormEps()),
                    new Shape(1, 1, cfg.hiddenSize()));
        }

        /** Inputs: sub-layer output, residual input. */
        @Override
        protected NDList forwardInternal(
                ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
            NDArray h = dropout(call(dense, ps, training, params, in.get(0)), cfg.hiddenDropoutProb(), training);
            return new NDList(call(childBlock("LayerNorm"), ps, training, params, h.add(in.get(1))));
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputs) {
            return new Shape[] {inputs[1]};
        }
    }

    /** BertAttention: "self" then "output". */
    static final class Attention extends HfModule {
        Attention(HfConfig cfg) {
            Shape h = new Shape(1, 1, cfg.hiddenSize());
            child("self", new SelfAttention(cfg), h);
            child("output", new DenseResidualNorm(cfg, cfg.hiddenSize()), h);
        }

        @Override
        protected NDList forwardInternal(
                ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
            NDArray ctx = childBlock("self").forward(ps, in, training, params).head();
            NDArray residual = FirstTokenOnly.requested(params) ? firstToken(in.get(0)) : in.get(0);
            return childBlock("output").forward(ps, new NDList(ctx, residual), training, params);
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputs) {
            return new Shape[] {inputs[0]};
        }
    }

    /** BertIntermediate: dense + activation. */
    static final class Intermediate extends HfModule {
        private final HfConfig cfg;
        Linear dense;

        Intermediate(HfConfig cfg) {
            this.cfg = cfg;
            dense = child("dense", linear(cfg.intermediateSize()), new Shape(1, cfg.hiddenSize()));
        }

        @Override
        protected NDList forwardInternal(
                ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
            return new NDList(act(cfg.hiddenAct(), call(dense, ps, training, params, in.head())));
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputs) {
            return new Shape[] {inputs[0].slice(0, inputs[0].dimension() - 1).add(cfg.intermediateSize())};
        }
    }

    /** BertLayer: attention, intermediate, output. */
    static final class Layer extends HfModule {
        Layer(HfConfig cfg) {
            Shape h = new Shape(1, 1, cfg.hiddenSize());
            child("attention", new Attention(cfg), h);
            child("intermediate", new Intermediate(cfg), h);
            child(
                    "output",
                    new DenseResidualNorm(cfg, cfg.intermediateSize()),
                    new Shape(1, 1, cfg.intermediateSize()));
        }

        /** Inputs: hidden, additive mask. */
        @Override
        protected NDList forwardInternal(
                ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
            NDArray a =
                    childBlock("attention").forward(ps, in, training, params).head();
            NDArray i = call(childBlock("intermediate"), ps, training, params, a);
            return childBlock("output").forward(ps, new NDList(i, a), training, params);
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputs) {
            return new Shape[] {inputs[0]};
        }
    }

    /** BertEncoder: the "layer" list applied in order. */
    static final class Encoder extends HfModule {
        Encoder(HfConfig cfg) {
            child(
                    "layer",
                    new HfModuleList(cfg.numHiddenLayers(), i -> new Layer(cfg), new Shape(1, 1, cfg.hiddenSize())),
                    new Shape(1, 1, cfg.hiddenSize()));
        }

        /** Inputs: hidden, additive mask. */
        @Override
        protected NDList forwardInternal(
                ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
            NDArray input = in.get(0);
            NDManager owner = input.getManager();
            NDArray h = input;
            List<Block> layers = childBlock("layer").getChildren().values();
            PairList<String, Object> early = FirstTokenOnly.without(params); // the request is the last layer's
            for (int i = 0; i < layers.size(); i++) {
                Block layer = layers.get(i);
                PairList<String, Object> layerParams = i == layers.size() - 1 ? params : early;
                // DJL frees an array when its manager closes, so without this every intermediate of every layer
                // (scores, softmax, dropout masks, GELU input, residual sums) would live until the step ends.
                // A manager per layer frees them as soon as the layer returns; closing a Java handle only drops a
                // reference, so whatever autograd saved for backward stays alive.
                NDArray out;
                try (NDManager layerManager = owner.newSubManager()) {
                    h.tempAttach(layerManager);
                    out = layer.forward(ps, new NDList(h, in.get(1)), training, layerParams)
                            .head();
                    out.attach(owner);
                }
                if (h != input) {
                    h.close();
                }
                h = out;
            }
            return new NDList(h);
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputs) {
            return new Shape[] {inputs[0]};
        }
    }

    /** BertPooler: dense + tanh on the first token. */
    static final class Pooler extends HfModule {
        Linear dense;
        private final int hidden;

        Pooler(HfConfig cfg) {
            hidden = cfg.hiddenSize();
            dense = child("dense", linear(cfg.hiddenSize()), new Shape(1, cfg.hiddenSize()));
        }

        @Override
        protected NDList forwardInternal(
                ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
            NDArray first = in.head().get(":, 0, :");
            return new NDList(call(dense, ps, training, params, first).tanh());
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputs) {
            return new Shape[] {new Shape(inputs[0].get(0), hidden)};
        }
    }

    /** RobertaClassificationHead: first token, dropout, dense, tanh, dropout, out_proj. */
    static final class RobertaClassificationHead extends HfModule {
        private final HfConfig cfg;
        Linear dense;
        Linear outProj;

        RobertaClassificationHead(HfConfig cfg) {
            this.cfg = cfg;
            dense = child("dense", linear(cfg.hiddenSize()), new Shape(1, cfg.hiddenSize()));
            outProj = child("out_proj", linear(cfg.numLabels()), new Shape(1, cfg.hiddenSize()));
        }

        @Override
        protected NDList forwardInternal(
                ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
            NDArray x = dropout(in.head().get(":, 0, :"), cfg.headDropout(), training);
            x = dropout(call(dense, ps, training, params, x).tanh(), cfg.headDropout(), training);
            return new NDList(call(outProj, ps, training, params, x));
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputs) {
            return new Shape[] {new Shape(inputs[0].get(0), cfg.numLabels())};
        }
    }
}
