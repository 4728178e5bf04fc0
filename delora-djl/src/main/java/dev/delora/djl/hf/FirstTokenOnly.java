package dev.delora.djl.hf;

import ai.djl.util.PairList;

/**
 * The forward parameter by which a sequence classifier asks its encoder for the first token of the last layer only.
 *
 * <p>Why: BERT's pooler and RoBERTa's classification head read the first token of the last hidden state and nothing
 * else, so the last layer needs keys and values of every token but the query, attention row, output projection and
 * feed-forward block of the first token alone. That skips about 10/12 of one layer's matrix products (per token: Q
 * and O, H² each, the FFN 8H², out of 12H²), about 1/14 of RoBERTa-base's forward and backward. The result is exact:
 * an attention row depends on its own query only, so the first token's output is the same computation on fewer rows
 * (float rounding may differ in the last bits, as between batch sizes). In training the last layer draws dropout
 * masks for the first token only, so the random stream after it differs from a full-sequence run's (the same
 * distribution, other draws).
 *
 * <p>{@link HfSequenceClassifier} sets it; the encoder hands it to its last layer alone; a bare
 * {@link HfEncoderModel} never sees it and returns every token.
 */
final class FirstTokenOnly {

    /** The key in a forward's {@code PairList} params; its value is ignored. */
    static final String PARAM = "delora.hf.first_token_only";

    private FirstTokenOnly() {}

    /** Tells whether the forward parameters ask for the first token only. */
    static boolean requested(PairList<String, Object> params) {
        return params != null && params.keys().contains(PARAM);
    }

    /** A copy of the parameters (null meaning none) that asks for the first token only. */
    static PairList<String, Object> with(PairList<String, Object> params) {
        PairList<String, Object> out =
                params == null ? new PairList<>() : new PairList<>(params.keys(), params.values());
        if (!out.keys().contains(PARAM)) {
            out.add(PARAM, Boolean.TRUE);
        }
        return out;
    }

    /** A copy of the parameters without the request (the same object when it holds none). */
    static PairList<String, Object> without(PairList<String, Object> params) {
        if (!requested(params)) {
            return params;
        }
        PairList<String, Object> out = new PairList<>();
        for (int i = 0; i < params.size(); i++) {
            if (!PARAM.equals(params.keyAt(i))) {
                out.add(params.keyAt(i), params.valueAt(i));
            }
        }
        return out;
    }
}
