package dev.delora.djl.hf.decoder;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.delora.djl.hf.HfModule;
import dev.delora.djl.peft.PeftTaskModel;
import java.util.List;

/**
 * {@code LlamaForCausalLM} / {@code Qwen2ForCausalLM} / {@code MistralForCausalLM} (without sliding window) built
 * from DJL blocks named as in transformers: {@code model.embed_tokens}, {@code model.layers.N.self_attn.q_proj} ...,
 * {@code model.norm} and {@code lm_head} (absent when {@code tie_word_embeddings}: the logits then use
 * {@code embed_tokens}' weight). Every projection is a plain {@link Linear}, so
 * {@code AdaptedModel.inject(lm, LoraConfig...targetModules("q_proj", "v_proj"))} and PEFT {@code CAUSAL_LM}
 * adapter folders work unchanged.
 *
 * <p>Block inputs: {@code [input_ids (B,T) int64, attention_mask (B,P+T)?, position_ids (B,T)?, k0, v0, k1, v1,
 * ...?]}; a missing (or {@code null}) mask means no padding, missing position ids mean {@code P..P+T-1} for every row
 * (transformers' forward without them), and the optional trailing arrays are a {@link KvCache} of {@code P}
 * positions. Outputs: {@code [logits (B,T,vocab) float32, k0, v0, ...]}, the keys and values of all {@code P+T}
 * positions. {@link #forward(ParameterStore, NDArray, NDArray, NDArray, KvCache, boolean)} is the typed form.
 */
public final class CausalLm extends HfModule implements PeftTaskModel {

    private final DecoderConfig config;
    private final DecoderModel model;

    /**
     * The result of a forward pass.
     *
     * @param logits (B, T, vocab) float32
     * @param cache every layer's keys and values over the past and the new positions
     */
    public record Output(NDArray logits, KvCache cache) {}

    /**
     * Builds an uninitialised model ({@link DecoderModels} builds and loads one from a folder).
     *
     * @param config the configuration
     */
    public CausalLm(DecoderConfig config) {
        this.config = config;
        model = child("model", new DecoderModel(config), new Shape(1, 1));
        if (!config.tieWordEmbeddings()) {
            child("lm_head", DecoderBlocks.linear(config.vocabSize(), false), new Shape(1, config.hiddenSize()));
        }
    }

    /**
     * Returns the configuration.
     *
     * @return the config
     */
    public DecoderConfig config() {
        return config;
    }

    /**
     * Returns {@code CAUSAL_LM}, PEFT's task type of language modelling.
     *
     * @return the task type
     */
    @Override
    public String peftTaskType() {
        return "CAUSAL_LM";
    }

    /**
     * Returns the modules PEFT always saves for this task: none ({@code PeftModelForCausalLM} adds no head).
     *
     * @return an empty list
     */
    @Override
    public List<String> headModules() {
        return List.of();
    }

    /**
     * Runs the model on new tokens, optionally after cached positions.
     *
     * @param ps the parameter store
     * @param inputIds (B, T) int64
     * @param attentionMask (B, P + T), or {@code null} for no padding
     * @param positionIds (B, T), or {@code null} for {@code P..P+T-1}
     * @param past the cache of the {@code P} earlier positions, or {@code null}
     * @param training whether this is a training forward (dropout, gradients)
     * @return the logits and the extended cache
     */
    public Output forward(
            ParameterStore ps,
            NDArray inputIds,
            NDArray attentionMask,
            NDArray positionIds,
            KvCache past,
            boolean training) {
        NDList in = new NDList(inputIds, attentionMask, positionIds);
        if (past != null) {
            in.addAll(past.interleaved());
        }
        NDList out = forward(ps, in, training);
        return new Output(out.get(0), KvCache.ofInterleaved(out.subList(1, out.size())));
    }

    /**
     * Generates greedily with the cache, as transformers' {@code generate(do_sample=False)}: position ids
     * {@code cumsum(mask) - 1} (1 where masked), one token per step, the mask extended with ones.
     *
     * @param inputIds (B, T) int64, left-padded
     * @param attentionMask (B, T)
     * @param maxNewTokens tokens to generate per row
     * @return the new tokens (B, maxNewTokens) int64, on {@code inputIds}' manager
     */
    public NDArray generateGreedy(NDArray inputIds, NDArray attentionMask, int maxNewTokens) {
        return generateGreedy(inputIds, attentionMask, maxNewTokens, GenerationHook.NONE, false)
                .tokens();
    }

    /**
     * Generates greedily with the cache, letting a hook change the chosen tokens and stop early (per-row EOS
     * handling goes there).
     *
     * @param inputIds (B, T) int64, left-padded
     * @param attentionMask (B, T)
     * @param maxNewTokens the most tokens to generate per row
     * @param hook called after each step's argmax
     * @param keepStepLogits whether to return each step's last-position logits
     * @return the new tokens and, if asked, the logits they were chosen from
     */
    public Generated generateGreedy(
            NDArray inputIds, NDArray attentionMask, int maxNewTokens, GenerationHook hook, boolean keepStepLogits) {
        return GreedySearch.run(this, inputIds, attentionMask, maxNewTokens, null, hook, keepStepLogits);
    }

    /**
     * Generates as transformers' {@code generate}: greedy or sampled (temperature, top-k, top-p, then a seeded
     * categorical draw), with the cache and generate's position ids; a row that produces an eos id gets the pad id
     * afterwards, and generation ends when every row has finished or after {@code maxNewTokens}.
     *
     * <pre>{@code
     * GenerationSettings s = GenerationSettings.builder().maxNewTokens(64)
     *         .generationConfig(GenerationConfig.load(folder)).doSample(true).temperature(0.7f).topP(0.9f)
     *         .seed(42L).build();
     * Generated out = lm.generate(inputIds, attentionMask, s);
     * }</pre>
     *
     * @param inputIds (B, T) int64, left-padded
     * @param attentionMask (B, T)
     * @param settings how to decode and when to stop
     * @return the new tokens (B, steps) with steps &le; {@code maxNewTokens} and each row's length, on
     *     {@code inputIds}' manager
     */
    public Generated generate(NDArray inputIds, NDArray attentionMask, GenerationSettings settings) {
        return GreedySearch.run(
                this, inputIds, attentionMask, settings.maxNewTokens(), settings, GenerationHook.NONE, false);
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
        NDArray ids = in.get(0);
        if (ids.getShape().dimension() != 2) {
            throw new IllegalArgumentException("input_ids must be (batch, seq), got " + ids.getShape());
        }
        int layers = config.numHiddenLayers();
        if (in.size() > 3 && in.size() != 3 + 2 * layers) {
            throw new IllegalArgumentException("expected [input_ids, attention_mask, position_ids] and " + 2 * layers
                    + " past keys/values, got " + in.size() + " arrays");
        }
        long b = ids.getShape().get(0);
        long t = ids.getShape().get(1);
        long past = in.size() > 3 ? in.get(3).getShape().get(2) : 0;
        NDArray mask = in.size() > 1 && in.get(1) != null
                ? in.get(1)
                : ids.getManager().ones(new Shape(b, past + t), DataType.INT64, ids.getDevice());
        if (!mask.getShape().equals(new Shape(b, past + t))) {
            throw new IllegalArgumentException("attention_mask must be (batch, past + seq) = (" + b + ", " + (past + t)
                    + "), got " + mask.getShape());
        }
        NDArray positions = in.size() > 2 && in.get(2) != null
                ? in.get(2)
                : ids.getManager()
                        .arange(past, past + t, 1, DataType.INT64, ids.getDevice())
                        .reshape(1, t);
        if (positions.getShape().dimension() != 2 || positions.getShape().get(1) != t) {
            throw new IllegalArgumentException("position_ids must be (batch, seq), got " + positions.getShape());
        }
        NDList modelIn = new NDList(ids, mask, positions);
        modelIn.addAll(in.subList(Math.min(3, in.size()), in.size()));
        NDList hidden = model.forward(ps, modelIn, training, params);
        NDArray h = hidden.get(0);
        NDArray logits = config.tieWordEmbeddings()
                ? Linear.linear(h, ps.getValue(model.embeddingWeight(), h.getDevice(), training))
                        .head()
                : DecoderBlocks.call(childBlock("lm_head"), ps, training, params, h);
        if (logits.getDataType() != DataType.FLOAT32) {
            logits = logits.toType(DataType.FLOAT32, false);
        }
        NDList out = new NDList(logits);
        out.addAll(hidden.subList(1, hidden.size()));
        return out;
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputs) {
        Shape[] hidden = model.getOutputShapes(inputs);
        hidden[0] = inputs[0].add(config.vocabSize());
        return hidden;
    }
}
