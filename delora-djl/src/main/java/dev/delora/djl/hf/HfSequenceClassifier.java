package dev.delora.djl.hf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.delora.djl.peft.PeftTaskModel;
import java.util.List;

/**
 * {@code BertForSequenceClassification} / {@code RobertaForSequenceClassification}: the base model under
 * {@code bert} or {@code roberta} and the head under {@code classifier}.
 *
 * <p>BERT: pooler output, dropout, {@code classifier} (a Linear). RoBERTa: {@code classifier.dense},
 * {@code classifier.out_proj} on the first token (no pooler). Input as {@link HfEncoderModel}; output
 * {@code [logits (B, num_labels)]}. With {@code num_labels == 1} the logits are a regression output
 * ({@link #problemType()} says which loss to use).
 */
public final class HfSequenceClassifier extends HfModule implements PeftTaskModel {

    private final HfConfig config;
    private Linear classifierLinear;

    /**
     * Builds an uninitialised model.
     *
     * @param config the configuration ({@code numLabels} sets the head width)
     */
    public HfSequenceClassifier(HfConfig config) {
        this.config = config;
        boolean bert = "bert".equals(config.modelType());
        Shape h = new Shape(1, 1, config.hiddenSize());
        child(config.modelType(), new HfEncoderModel(config, bert), new Shape(1, 1));
        if (bert) {
            classifierLinear =
                    child("classifier", HfLayers.linear(config.numLabels()), new Shape(1, config.hiddenSize()));
        } else {
            child("classifier", new HfLayers.RobertaClassificationHead(config), h);
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
     * Returns the loss to train with: regression (MSE) when {@code num_labels == 1}, else cross-entropy.
     *
     * @return the problem type
     */
    public ProblemType problemType() {
        return config.resolvedProblemType();
    }

    /**
     * Returns the base-model prefix of the state-dict keys ({@code bert} or {@code roberta}).
     *
     * @return the prefix
     */
    public String basePrefix() {
        return config.modelType();
    }

    /**
     * Returns {@code SEQ_CLS}, PEFT's task type of sequence classification.
     *
     * @return the task type
     */
    @Override
    public String peftTaskType() {
        return "SEQ_CLS";
    }

    /**
     * Returns the module paths of the task head, the modules PEFT trains in full ({@code modules_to_save}).
     *
     * @return {@code ["classifier"]}
     */
    @Override
    public List<String> headModules() {
        return List.of("classifier");
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList in, boolean training, PairList<String, Object> params) {
        // the head reads the first token only, so the encoder's last layer computes no other (FirstTokenOnly)
        NDList base = childBlock(config.modelType()).forward(ps, in, training, FirstTokenOnly.with(params));
        Block head = childBlock("classifier");
        if ("bert".equals(config.modelType())) {
            NDArray pooled = HfLayers.dropout(base.get(1), config.headDropout(), training);
            return new NDList(HfLayers.call(classifierLinear, ps, training, params, pooled));
        }
        return head.forward(ps, new NDList(base.get(0)), training, params);
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputs) {
        return new Shape[] {new Shape(inputs[0].get(0), config.numLabels())};
    }
}
