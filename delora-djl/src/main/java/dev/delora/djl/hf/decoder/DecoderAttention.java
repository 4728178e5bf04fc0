package dev.delora.djl.hf.decoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.delora.djl.hf.AttentionKernels;
import dev.delora.djl.hf.HfModule;

/**
 * LlamaAttention / Qwen2Attention ({@code self_attn}): {@code q_proj}, {@code k_proj}, {@code v_proj},
 * {@code o_proj}; rotary embeddings on queries and keys (transformers' {@code apply_rotary_pos_emb}, rotate-half
 * convention), grouped-query attention, softmax attention with scale {@code 1/sqrt(head_dim)} and an additive mask
 * ({@link AttentionKernels}: fused {@code scaled_dot_product_attention} by default, or eager).
 *
 * <p>Inputs: hidden (B,T,H), additive mask (B,1,T,S), cos (B,T,D), sin (B,T,D)[, past key, past value
 * (B,kvHeads,P,D)] with {@code S = P + T}. Outputs: the projected context (B,T,H) and the keys and values of all
 * {@code S} positions (B,kvHeads,S,D), rotary already applied to the keys, as transformers' cache holds them.
 */
final class DecoderAttention extends HfModule {

    private final DecoderConfig cfg;

    DecoderAttention(DecoderConfig cfg) {
        this.cfg = cfg;
        Shape h = new Shape(1, cfg.hiddenSize());
        int q = cfg.numAttentionHeads() * cfg.headDim();
        int kv = cfg.numKeyValueHeads() * cfg.headDim();
        child("q_proj", DecoderBlocks.linear(q, cfg.qkvBias()), h);
        child("k_proj", DecoderBlocks.linear(kv, cfg.qkvBias()), h);
        child("v_proj", DecoderBlocks.linear(kv, cfg.qkvBias()), h);
        child("o_proj", DecoderBlocks.linear(cfg.hiddenSize(), cfg.outputBias()), new Shape(1, q));
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
        NDArray h = in.get(0);
        NDArray mask = in.get(1);
        NDArray cos = in.get(2).expandDims(1);
        NDArray sin = in.get(3).expandDims(1);
        long b = h.getShape().get(0);
        long t = h.getShape().get(1);
        int nh = cfg.numAttentionHeads();
        int kvh = cfg.numKeyValueHeads();
        int hd = cfg.headDim();
        NDArray q = heads(DecoderBlocks.call(childBlock("q_proj"), ps, training, params, h), b, t, nh, hd);
        NDArray k = heads(DecoderBlocks.call(childBlock("k_proj"), ps, training, params, h), b, t, kvh, hd);
        NDArray v = heads(DecoderBlocks.call(childBlock("v_proj"), ps, training, params, h), b, t, kvh, hd);
        q = rotate(q, cos, sin, hd);
        k = rotate(k, cos, sin, hd);
        if (in.size() > 5) {
            k = NDArrays.concat(new NDList(in.get(4), k), 2);
            v = NDArrays.concat(new NDList(in.get(5), v), 2);
        }
        float dropout = training ? cfg.attentionDropout() : 0f;
        NDArray ctx = AttentionKernels.attend(q, k, v, mask, dropout, (float) (1 / Math.sqrt(hd)));
        NDArray out = DecoderBlocks.call(childBlock("o_proj"), ps, training, params, ctx);
        return new NDList(out, k, v);
    }

    private static NDArray heads(NDArray x, long b, long t, int n, int hd) {
        return x.reshape(b, t, n, hd).transpose(0, 2, 1, 3);
    }

    /** {@code x * cos + rotate_half(x) * sin}, where rotate_half(x) = cat(-x2, x1) of the two halves. */
    private static NDArray rotate(NDArray x, NDArray cos, NDArray sin, int hd) {
        int half = hd / 2;
        NDArray x1 = x.get(":, :, :, :" + half);
        NDArray x2 = x.get(":, :, :, " + half + ":");
        NDArray rotated = NDArrays.concat(new NDList(x2.neg(), x1), -1);
        return x.mul(cos).add(rotated.mul(sin));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputs) {
        Shape kv = new Shape(inputs[0].get(0), cfg.numKeyValueHeads(), -1, cfg.headDim());
        return new Shape[] {inputs[0], kv, kv};
    }
}
