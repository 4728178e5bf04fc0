package dev.delora.djl.hf.decoder;

/**
 * The {@code rope_scaling} of a Llama-family config of type {@code llama3} (transformers'
 * {@code _compute_llama3_parameters}): low frequencies are divided by {@code factor}, high ones kept, and the band in
 * between interpolated. A config without {@code rope_scaling} (or of type {@code default}) has none.
 *
 * @param ropeType the type; only {@code llama3}
 * @param factor the scaling factor (≥ 1)
 * @param lowFreqFactor {@code low_freq_factor}
 * @param highFreqFactor {@code high_freq_factor} (> {@code lowFreqFactor})
 * @param originalMaxPositionEmbeddings {@code original_max_position_embeddings}, the pre-training context
 */
public record RopeScaling(
        String ropeType,
        double factor,
        double lowFreqFactor,
        double highFreqFactor,
        int originalMaxPositionEmbeddings) {

    /** The one supported type. */
    public static final String LLAMA3 = "llama3";

    /** Validates the values. */
    public RopeScaling {
        if (!LLAMA3.equals(ropeType)) {
            throw new IllegalArgumentException("rope_scaling.rope_type '" + ropeType + "' is not supported; "
                    + "supported: default (or no rope_scaling), llama3");
        }
        if (!(factor >= 1)) {
            throw new IllegalArgumentException("rope_scaling.factor must be >= 1, got " + factor);
        }
        if (!(lowFreqFactor > 0) || !(highFreqFactor > lowFreqFactor)) {
            throw new IllegalArgumentException("rope_scaling needs 0 < low_freq_factor < high_freq_factor, got "
                    + lowFreqFactor + " and " + highFreqFactor);
        }
        if (originalMaxPositionEmbeddings <= 0) {
            throw new IllegalArgumentException(
                    "rope_scaling.original_max_position_embeddings must be > 0, got " + originalMaxPositionEmbeddings);
        }
    }

    /**
     * Returns the inverse frequencies of rotary embeddings, as transformers computes them in float32: the default
     * {@code 1 / theta^(2i/dim)}, then, with a scaling, its llama3 adjustment.
     *
     * @param scaling the scaling, or {@code null} for the default
     * @param dim the rotary dimension (the head dimension), even
     * @param theta {@code rope_theta}
     * @return {@code dim / 2} frequencies
     */
    public static float[] inverseFrequencies(RopeScaling scaling, int dim, double theta) {
        float[] inv = new float[dim / 2];
        for (int i = 0; i < inv.length; i++) {
            float exponent = (float) (2 * i) / (float) dim;
            inv[i] = 1f / (float) Math.pow((float) theta, exponent);
        }
        return scaling == null ? inv : scaling.adjust(inv);
    }

    private float[] adjust(float[] inv) {
        float fac = (float) factor;
        float low = (float) lowFreqFactor;
        float high = (float) highFreqFactor;
        float oldContext = originalMaxPositionEmbeddings;
        float lowFreqWavelen = oldContext / low;
        float highFreqWavelen = oldContext / high;
        float[] out = new float[inv.length];
        for (int i = 0; i < inv.length; i++) {
            float wavelen = (float) (2 * Math.PI) * (1f / inv[i]);
            // wavelen < high_freq_wavelen: kept; wavelen > low_freq_wavelen: divided by factor
            float scaled = wavelen > lowFreqWavelen ? inv[i] / fac : inv[i];
            boolean medium = !(wavelen < highFreqWavelen) && !(wavelen > lowFreqWavelen);
            if (medium) {
                float smooth = (oldContext / wavelen - low) / (high - low);
                scaled = (1 - smooth) * scaled / fac + smooth * scaled;
            }
            out[i] = scaled;
        }
        return out;
    }
}
