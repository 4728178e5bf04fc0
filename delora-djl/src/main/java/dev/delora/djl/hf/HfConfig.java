package dev.delora.djl.hf;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;

/**
 * The fields of a Hugging Face BERT / RoBERTa {@code config.json} that the encoders use.
 *
 * @param modelType {@code "bert"} or {@code "roberta"} (also the base-model prefix of the checkpoint keys)
 * @param vocabSize rows of the word embedding
 * @param hiddenSize model width
 * @param numHiddenLayers number of encoder layers
 * @param numAttentionHeads attention heads; must divide {@code hiddenSize}
 * @param intermediateSize feed-forward width
 * @param hiddenAct {@code gelu}, {@code gelu_new}/{@code gelu_pytorch_tanh} or {@code relu}
 * @param hiddenDropoutProb dropout on embeddings and sub-layer outputs
 * @param attentionProbsDropoutProb dropout on attention probabilities
 * @param maxPositionEmbeddings rows of the position embedding
 * @param typeVocabSize rows of the token-type embedding
 * @param initializerRange standard deviation of newly initialised weights
 * @param layerNormEps LayerNorm epsilon
 * @param padTokenId padding id (RoBERTa positions start after it)
 * @param classifierDropout head dropout; {@code null} means {@code hiddenDropoutProb}
 * @param numLabels classifier outputs; 1 means regression
 * @param problemType transformers' {@code problem_type} or {@code null}
 */
public record HfConfig(
        String modelType,
        int vocabSize,
        int hiddenSize,
        int numHiddenLayers,
        int numAttentionHeads,
        int intermediateSize,
        String hiddenAct,
        float hiddenDropoutProb,
        float attentionProbsDropoutProb,
        int maxPositionEmbeddings,
        int typeVocabSize,
        float initializerRange,
        float layerNormEps,
        int padTokenId,
        Float classifierDropout,
        int numLabels,
        String problemType) {

    private static final Set<String> TYPES = Set.of("bert", "roberta");
    private static final Set<String> ACTS = Set.of("gelu", "gelu_new", "gelu_pytorch_tanh", "relu");

    /** Validates the configuration. */
    public HfConfig {
        if (!TYPES.contains(modelType)) {
            throw new IllegalArgumentException(
                    "model_type '" + modelType + "' is not supported; expected one of " + TYPES);
        }
        if (!ACTS.contains(hiddenAct)) {
            throw new IllegalArgumentException(
                    "hidden_act '" + hiddenAct + "' is not supported; expected one of " + ACTS);
        }
        positive("vocab_size", vocabSize);
        positive("hidden_size", hiddenSize);
        positive("num_hidden_layers", numHiddenLayers);
        positive("num_attention_heads", numAttentionHeads);
        positive("intermediate_size", intermediateSize);
        positive("max_position_embeddings", maxPositionEmbeddings);
        positive("type_vocab_size", typeVocabSize);
        positive("num_labels", numLabels);
        if (hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException(
                    "hidden_size " + hiddenSize + " is not a multiple of num_attention_heads " + numAttentionHeads);
        }
        probability("hidden_dropout_prob", hiddenDropoutProb);
        probability("attention_probs_dropout_prob", attentionProbsDropoutProb);
        if (classifierDropout != null) {
            probability("classifier_dropout", classifierDropout);
        }
        if (!(layerNormEps > 0)) {
            throw new IllegalArgumentException("layer_norm_eps must be > 0, got " + layerNormEps);
        }
        if (!(initializerRange > 0)) {
            throw new IllegalArgumentException("initializer_range must be > 0, got " + initializerRange);
        }
        if (padTokenId < 0 || padTokenId >= vocabSize) {
            throw new IllegalArgumentException("pad_token_id " + padTokenId + " is outside [0, " + vocabSize + ")");
        }
        if (problemType != null
                && !Set.of("regression", "single_label_classification", "multi_label_classification")
                        .contains(problemType)) {
            throw new IllegalArgumentException("problem_type '" + problemType + "' is unknown");
        }
    }

    private static void positive(String name, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + v);
        }
    }

    private static void probability(String name, float p) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException(name + " must be in [0, 1), got " + p);
        }
    }

    /**
     * Reads {@code config.json}.
     *
     * @param file the file, or a model folder holding it
     * @return the configuration
     * @throws IOException if the file is missing, not JSON, or lacks a required field
     */
    public static HfConfig load(Path file) throws IOException {
        Path f = Files.isDirectory(file) ? file.resolve("config.json") : file;
        JsonObject o;
        try {
            o = JsonParser.parseString(Files.readString(f)).getAsJsonObject();
        } catch (JsonParseException | IllegalStateException e) {
            throw new IOException(f + ": not a JSON object (" + e.getMessage() + ")", e);
        }
        try {
            return fromJson(o);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(f + ": " + e.getMessage(), e);
        }
    }

    /**
     * Builds a configuration from parsed {@code config.json} content, with transformers' defaults for absent fields.
     *
     * @param o the JSON object
     * @return the configuration
     */
    public static HfConfig fromJson(JsonObject o) {
        String type = str(o, "model_type", null);
        if (type == null) {
            throw new IllegalArgumentException("config has no \"model_type\" (expected \"bert\" or \"roberta\")");
        }
        boolean roberta = "roberta".equals(type);
        int labels;
        if (o.has("id2label") && o.get("id2label").isJsonObject()) {
            labels = o.getAsJsonObject("id2label").size();
        } else {
            labels = integer(o, "num_labels", 2);
        }
        String pe = str(o, "position_embedding_type", "absolute");
        if (!"absolute".equals(pe)) {
            throw new IllegalArgumentException(
                    "position_embedding_type '" + pe + "' is not supported; expected " + "'absolute'");
        }
        return new HfConfig(
                type,
                required(o, "vocab_size"),
                integer(o, "hidden_size", 768),
                integer(o, "num_hidden_layers", 12),
                integer(o, "num_attention_heads", 12),
                integer(o, "intermediate_size", 3072),
                str(o, "hidden_act", "gelu"),
                number(o, "hidden_dropout_prob", 0.1f),
                number(o, "attention_probs_dropout_prob", 0.1f),
                integer(o, "max_position_embeddings", 512),
                integer(o, "type_vocab_size", 2),
                number(o, "initializer_range", 0.02f),
                number(o, "layer_norm_eps", 1e-12f),
                integer(o, "pad_token_id", roberta ? 1 : 0),
                o.has("classifier_dropout") && !o.get("classifier_dropout").isJsonNull()
                        ? o.get("classifier_dropout").getAsFloat()
                        : null,
                labels,
                str(o, "problem_type", null));
    }

    /**
     * Writes the config as transformers' {@code config.json}, so {@code AutoModelForSequenceClassification} (or
     * {@code AutoModel}) can load an exported folder.
     *
     * @param classification whether the weights include a classification head
     * @return the JSON object
     */
    public JsonObject toJson(boolean classification) {
        boolean roberta = "roberta".equals(modelType);
        String arch = (roberta ? "Roberta" : "Bert") + (classification ? "ForSequenceClassification" : "Model");
        JsonObject o = new JsonObject();
        com.google.gson.JsonArray archs = new com.google.gson.JsonArray();
        archs.add(arch);
        o.add("architectures", archs);
        o.addProperty("model_type", modelType);
        o.addProperty("vocab_size", vocabSize);
        o.addProperty("hidden_size", hiddenSize);
        o.addProperty("num_hidden_layers", numHiddenLayers);
        o.addProperty("num_attention_heads", numAttentionHeads);
        o.addProperty("intermediate_size", intermediateSize);
        o.addProperty("hidden_act", hiddenAct);
        o.addProperty("hidden_dropout_prob", hiddenDropoutProb);
        o.addProperty("attention_probs_dropout_prob", attentionProbsDropoutProb);
        o.addProperty("max_position_embeddings", maxPositionEmbeddings);
        o.addProperty("type_vocab_size", typeVocabSize);
        o.addProperty("initializer_range", initializerRange);
        o.addProperty("layer_norm_eps", layerNormEps);
        o.addProperty("pad_token_id", padTokenId);
        o.addProperty("position_embedding_type", "absolute");
        if (classifierDropout != null) {
            o.addProperty("classifier_dropout", classifierDropout);
        }
        if (classification) {
            JsonObject id2label = new JsonObject();
            JsonObject label2id = new JsonObject();
            for (int i = 0; i < numLabels; i++) {
                id2label.addProperty(Integer.toString(i), "LABEL_" + i);
                label2id.addProperty("LABEL_" + i, i);
            }
            o.add("id2label", id2label);
            o.add("label2id", label2id);
            o.addProperty(
                    "problem_type",
                    switch (resolvedProblemType()) {
                        case REGRESSION -> "regression";
                        case MULTI_LABEL_CLASSIFICATION -> "multi_label_classification";
                        case SINGLE_LABEL_CLASSIFICATION -> "single_label_classification";
                    });
        }
        o.addProperty("torch_dtype", "float32");
        return o;
    }

    /**
     * Returns a copy with another number of labels (a new head); {@code problem_type} is reset.
     *
     * @param n the number of labels; 1 means regression
     * @return the copy
     */
    public HfConfig withNumLabels(int n) {
        return new HfConfig(
                modelType,
                vocabSize,
                hiddenSize,
                numHiddenLayers,
                numAttentionHeads,
                intermediateSize,
                hiddenAct,
                hiddenDropoutProb,
                attentionProbsDropoutProb,
                maxPositionEmbeddings,
                typeVocabSize,
                initializerRange,
                layerNormEps,
                padTokenId,
                classifierDropout,
                n,
                n == numLabels ? problemType : null);
    }

    /**
     * Returns the loss the classification head is trained with, as transformers decides it.
     *
     * @return {@link ProblemType#REGRESSION} when {@code num_labels == 1} (or so configured), else classification
     */
    public ProblemType resolvedProblemType() {
        if (problemType != null) {
            return switch (problemType) {
                case "regression" -> ProblemType.REGRESSION;
                case "multi_label_classification" -> ProblemType.MULTI_LABEL_CLASSIFICATION;
                default -> ProblemType.SINGLE_LABEL_CLASSIFICATION;
            };
        }
        return numLabels == 1 ? ProblemType.REGRESSION : ProblemType.SINGLE_LABEL_CLASSIFICATION;
    }

    /**
     * Returns the dropout of the classification head.
     *
     * @return {@code classifier_dropout}, or {@code hidden_dropout_prob} when unset
     */
    public float headDropout() {
        return classifierDropout != null ? classifierDropout : hiddenDropoutProb;
    }

    /**
     * Returns the width of one attention head.
     *
     * @return {@code hiddenSize / numAttentionHeads}
     */
    public int headSize() {
        return hiddenSize / numAttentionHeads;
    }

    private static int required(JsonObject o, String k) {
        if (!o.has(k) || o.get(k).isJsonNull()) {
            throw new IllegalArgumentException("config has no \"" + k + "\"");
        }
        return o.get(k).getAsInt();
    }

    private static int integer(JsonObject o, String k, int dflt) {
        JsonElement e = o.get(k);
        return e == null || e.isJsonNull() ? dflt : e.getAsInt();
    }

    private static float number(JsonObject o, String k, float dflt) {
        JsonElement e = o.get(k);
        return e == null || e.isJsonNull() ? dflt : e.getAsFloat();
    }

    private static String str(JsonObject o, String k, String dflt) {
        JsonElement e = o.get(k);
        return e == null || e.isJsonNull() ? dflt : e.getAsString();
    }
}
