package dev.delora.djl.hf.decoder;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.delora.core.array.ArrayOps;
import dev.delora.djl.hf.HfEmbedding;
import dev.delora.djl.hf.HfModule;
import dev.delora.djl.hf.HfModuleList;
import java.util.List;

/**
 * LlamaModel / Qwen2Model ({@code model}): {@code embed_tokens}, {@code layers.N}, {@code norm}.
 *
 * <p>Inputs: input_ids (B,T) int64, attention_mask (B,S) with {@code S = P + T}, position_ids (B,T) or (1,T), then
 * optionally {@code 2·layers} past keys and values (B,kvHeads,P,D). Outputs: the normed hidden state (B,T,H) and
 * every layer's keys and values over all {@code S} positions. The mask is transformers' eager one: query {@code i}
 * (cache position {@code P + i}) may see key {@code j} when {@code j <= P + i} and {@code attention_mask[b, j] != 0};
 * the others get {@code float32.min} added to their scores.
 */
final class DecoderModel extends HfModule {

    private final DecoderConfig cfg;
    private final float[] invFreq;
    private final HfEmbedding embedTokens;

    DecoderModel(DecoderConfig cfg) {
        this.cfg = cfg;
        invFreq = RopeScaling.inverseFrequencies(cfg.ropeScaling(), cfg.headDim(), cfg.ropeTheta());
        Shape h = new Shape(1, 1, cfg.hiddenSize());
        embedTokens = child("embed_tokens", new HfEmbedding(cfg.vocabSize(), cfg.hiddenSize()), new Shape(1, 1));
        child("layers", new HfModuleList(cfg.numHiddenLayers(), i -> new DecoderBlocks.DecoderLayer(cfg), h), h);
        child("norm", new DecoderBlocks.RmsNorm(cfg.hiddenSize(), cfg.rmsNormEps()), h);
    }

    Parameter embeddingWeight() {
        return embedTokens.weight();
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
        NDArray ids = in.get(0);
        NDArray mask = in.get(1);
        NDArray positions = in.get(2);
        List<NDArray> past = in.subList(3, in.size());
        long t = ids.getShape().get(1);
        long s = mask.getShape().get(1);
        NDArray input = DecoderBlocks.call(childBlock("embed_tokens"), ps, training, params, ids);
        // cos, sin and the mask belong to this forward (the input's manager), whichever manager holds the caller's
        // mask and positions; their intermediates are closed right away
        NDList prepared = ArrayOps.inStepScope(input, () -> {
            NDArray[] cs = rotary(positions, input.getDevice());
            return new NDList(cs[0], cs[1], additiveMask(mask, s - t, t));
        });
        NDArray[] cosSin = {prepared.get(0), prepared.get(1)};
        NDArray additive = prepared.get(2);
        NDManager owner = input.getManager();
        NDList kv = new NDList();
        NDArray h = input;
        int i = 0;
        for (Block layer : childBlock("layers").getChildren().values()) {
            // a manager per layer frees its intermediates (scores, probabilities, MLP activations) when the layer
            // returns; closing Java handles does not free what autograd saved for backward
            NDArray pastK = past.isEmpty() ? null : past.get(2 * i);
            NDArray pastV = past.isEmpty() ? null : past.get(2 * i + 1);
            NDList out;
            try (NDManager layerManager = owner.newSubManager()) {
                h.tempAttach(layerManager);
                NDList layerIn = new NDList(h, additive, cosSin[0], cosSin[1]);
                if (pastK != null) {
                    pastK.tempAttach(layerManager);
                    pastV.tempAttach(layerManager);
                    layerIn.add(pastK);
                    layerIn.add(pastV);
                }
                out = layer.forward(ps, layerIn, training, params);
                out.attach(owner);
            }
            if (h != input) {
                h.close();
            }
            h = out.get(0);
            kv.add(out.get(1));
            kv.add(out.get(2));
            i++;
        }
        NDList result = new NDList(DecoderBlocks.call(childBlock("norm"), ps, training, params, h));
        result.addAll(kv);
        return result;
    }

    /** cos and sin of {@code position · inv_freq}, duplicated over both halves: (B or 1, T, D) each. */
    private NDArray[] rotary(NDArray positions, Device device) {
        NDManager m = positions.getManager();
        NDArray inv;
        // a libtorch-owned copy: create(float[]) may wrap a Java buffer the GC frees
        try (NDArray javaBacked = m.create(invFreq, new Shape(1, 1, invFreq.length))) {
            inv = javaBacked.toDevice(device, true);
        }
        NDArray freqs = positions.toType(DataType.FLOAT32, false).expandDims(2).mul(inv);
        NDArray emb = NDArrays.concat(new NDList(freqs, freqs), -1);
        return new NDArray[] {emb.cos(), emb.sin()};
    }

    /** transformers' eager causal mask with padding: 0 where attended, float32.min elsewhere; (B, 1, T, P + T). */
    static NDArray additiveMask(NDArray mask, long pastLength, long t) {
        NDManager m = mask.getManager();
        long s = pastLength + t;
        NDArray queryPos =
                m.arange(pastLength, s, 1, DataType.INT64, mask.getDevice()).reshape(t, 1);
        NDArray keyPos = m.arange(0, s, 1, DataType.INT64, mask.getDevice()).reshape(1, s);
        NDArray causal = keyPos.lte(queryPos).reshape(1, 1, t, s);
        NDArray padding = mask.neq(0).reshape(mask.getShape().get(0), 1, 1, s);
        NDArray allowed = causal.logicalAnd(padding).toType(DataType.FLOAT32, false);
        return allowed.sub(1f).mul(Float.MAX_VALUE);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputs) {
        Shape kv = new Shape(inputs[0].get(0), cfg.numKeyValueHeads(), -1, cfg.headDim());
        Shape[] out = new Shape[1 + 2 * cfg.numHiddenLayers()];
        out[0] = inputs[0].add(cfg.hiddenSize());
        for (int i = 1; i < out.length; i++) {
            out[i] = kv;
        }
        return out;
    }
}
