package dev.delora.djl.hf;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import dev.delora.core.array.ArrayOps;
import dev.delora.core.target.TargetSelector;
import dev.delora.djl.io.TensorSource;
import dev.delora.djl.tree.BlockTree;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Copies checkpoint tensors into the parameters of an initialised block tree by state-dict key (module path +
 * "." + parameter name), the way transformers' {@code from_pretrained} does:
 *
 * <ul>
 *   <li>legacy LayerNorm names {@code gamma}/{@code beta} are read as {@code weight}/{@code bias};
 *   <li>base-model prefix: a bare-encoder checkpoint ({@code embeddings.*}) loads into {@code bert.*} of a task model,
 *       and a task checkpoint ({@code bert.*}) loads into a bare encoder;
 *   <li>missing and unexpected keys are reported (logged as a warning, like transformers) instead of failing, so a
 *       new head is simply "newly initialized"; a shape mismatch is an error naming both shapes.
 * </ul>
 * Values are copied in place into the existing arrays (converted to the parameter's dtype and device), so adapters
 * and optimisers holding the {@link Parameter} objects see them.
 */
public final class HfWeights {

    private static final Logger LOG = LoggerFactory.getLogger(HfWeights.class);

    private HfWeights() {}

    /**
     * What a load did.
     *
     * @param modelName the model's class name as transformers would print it
     * @param source where the weights came from
     * @param loadedKeys model keys that received a value
     * @param missingKeys model keys absent from the checkpoint (newly initialised)
     * @param unexpectedKeys checkpoint keys the model has no parameter for (after prefix handling)
     * @param renamedKeys checkpoint key to the model key it was read as, for legacy/prefixed names
     */
    public record LoadReport(
            String modelName,
            String source,
            List<String> loadedKeys,
            List<String> missingKeys,
            List<String> unexpectedKeys,
            Map<String, String> renamedKeys) {

        /** Copies the lists. */
        public LoadReport {
            loadedKeys = List.copyOf(loadedKeys);
            missingKeys = List.copyOf(missingKeys);
            unexpectedKeys = List.copyOf(unexpectedKeys);
            renamedKeys = Map.copyOf(renamedKeys);
        }

        /**
         * Returns the modules whose parameters the checkpoint did not hold (the paths of {@link #missingKeys} without
         * their last segment), e.g. {@code [bert.pooler.dense, classifier]}. Their values exist only in this model,
         * so an adapter trained on it must train and save them ({@code modules_to_save}) to be reproducible.
         *
         * @return module paths in first-seen order
         */
        public List<String> newModules() {
            return missingKeys.stream()
                    .map(k -> k.substring(0, Math.max(0, k.lastIndexOf('.'))))
                    .distinct()
                    .toList();
        }

        /**
         * Returns the {@code modules_to_save} an adapter on this model needs to be reproducible from its folder: the
         * head, then every {@link #newModules() new module} outside it (e.g. the embedded MiniLM's
         * {@code bert.pooler.dense}), whose values exist only in this model.
         *
         * @param headModules the head's modules, e.g. {@code [classifier]}; new modules under them are not repeated
         * @return the entries, head first
         */
        public List<String> modulesToSave(List<String> headModules) {
            List<String> out = new ArrayList<>(headModules);
            newModules().stream()
                    .filter(m -> headModules.stream().noneMatch(h -> TargetSelector.namesModuleToSave(h, m)))
                    .forEach(out::add);
            return List.copyOf(out);
        }

        /**
         * Returns the messages transformers would log for this load (empty when everything matched).
         *
         * @return one message per problem kind
         */
        public List<String> messages() {
            List<String> out = new ArrayList<>();
            if (!unexpectedKeys.isEmpty()) {
                out.add("Some weights of the model checkpoint at " + source + " were not used when initializing "
                        + modelName + ": " + unexpectedKeys + "\n- This IS expected if you are initializing "
                        + modelName + " from the checkpoint of a model trained on another task or with another "
                        + "architecture.");
            }
            if (!missingKeys.isEmpty()) {
                out.add("Some weights of " + modelName + " were not initialized from the model checkpoint at "
                        + source + " and are newly initialized: " + missingKeys
                        + "\nYou should probably TRAIN this model on a down-stream task to be able to use it for "
                        + "predictions and inference.");
            }
            return out;
        }
    }

    /**
     * Loads a checkpoint into an initialised block.
     *
     * @param model the block (already initialised, so every parameter has an array)
     * @param modelName the name used in messages, e.g. {@code BertForSequenceClassification}
     * @param basePrefix the base-model prefix ({@code bert}, {@code roberta})
     * @param source the checkpoint
     * @param manager a manager for the temporary arrays read from the checkpoint
     * @return the report (also logged as warnings when keys are missing or unexpected)
     * @throws IOException if reading fails
     * @throws IllegalArgumentException if a tensor's shape differs from its parameter's
     */
    public static LoadReport load(
            Block model, String modelName, String basePrefix, TensorSource source, NDManager manager)
            throws IOException {
        return load(model, modelName, basePrefix, source, manager, key -> false);
    }

    /**
     * Loads a checkpoint, leaving parameters whose shape differs newly initialised when {@code mayMismatch} accepts
     * their key (transformers' {@code ignore_mismatched_sizes}, used when a classifier checkpoint gets a new head
     * with another number of labels); such keys are reported as missing and logged with both shapes.
     *
     * @param model the initialised model
     * @param modelName the transformers class name, for messages
     * @param basePrefix the base-model prefix ({@code bert} or {@code roberta})
     * @param source the checkpoint
     * @param manager the manager for temporary arrays
     * @param mayMismatch which model keys may differ in shape
     * @return the report
     * @throws IOException if reading fails
     * @throws IllegalArgumentException on any other shape mismatch (the model is unchanged then)
     */
    public static LoadReport load(
            Block model,
            String modelName,
            String basePrefix,
            TensorSource source,
            NDManager manager,
            java.util.function.Predicate<String> mayMismatch)
            throws IOException {
        LinkedHashMap<String, Parameter> params = BlockTree.parameters(model);
        Map<String, String> ckptToModel = new LinkedHashMap<>();
        Map<String, String> renamed = new LinkedHashMap<>();
        List<String> checkpointKeys = new ArrayList<>();
        for (String k : source.keys()) {
            if (k.endsWith("position_ids")) {
                continue; // non-persistent buffer some exporters keep; transformers ignores it too
            }
            checkpointKeys.add(k);
        }
        String prefix = basePrefix + ".";
        boolean ckptHasPrefix = checkpointKeys.stream().anyMatch(k -> k.startsWith(prefix));
        boolean modelHasPrefix = params.keySet().stream().anyMatch(k -> k.startsWith(prefix));
        for (String k : checkpointKeys) {
            String m = legacy(k);
            if (modelHasPrefix && !ckptHasPrefix) {
                m = prefix + m;
            } else if (!modelHasPrefix && ckptHasPrefix && m.startsWith(prefix)) {
                m = m.substring(prefix.length());
            }
            ckptToModel.put(k, m);
            if (!m.equals(k)) {
                renamed.put(k, m);
            }
        }
        Map<String, String> modelToCkpt = new HashMap<>();
        List<String> unexpected = new ArrayList<>();
        for (Map.Entry<String, String> e : ckptToModel.entrySet()) {
            if (params.containsKey(e.getValue())) {
                String prev = modelToCkpt.put(e.getValue(), e.getKey());
                if (prev != null) {
                    throw new IllegalArgumentException(source.describe() + ": both '" + prev + "' and '" + e.getKey()
                            + "' map to the parameter '" + e.getValue() + "'");
                }
            } else {
                unexpected.add(e.getKey());
            }
        }
        List<String> missing = new ArrayList<>();
        List<String> loaded = new ArrayList<>();
        // check every shape before touching any parameter, so a bad checkpoint leaves the model unchanged
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            String ck = modelToCkpt.get(e.getKey());
            if (ck == null) {
                missing.add(e.getKey());
                continue;
            }
            Parameter p = e.getValue();
            if (!p.isInitialized()) {
                throw new IllegalStateException("parameter '" + e.getKey() + "' has no array; initialise the model "
                        + "before loading weights");
            }
            Shape want = p.getArray().getShape();
            Shape got = source.shape(ck);
            if (!want.equals(got) && mayMismatch.test(e.getKey())) {
                LOG.warn(
                        "Some weights of {} were not initialized from the model checkpoint at {} and are newly "
                                + "initialized because the shapes did not match: {}: found shape {} in the "
                                + "checkpoint and {} "
                                + "in the model instantiated",
                        modelName,
                        source.describe(),
                        ck,
                        got,
                        want);
                modelToCkpt.remove(e.getKey());
                missing.add(e.getKey());
            } else if (!want.equals(got)) {
                throw new IllegalArgumentException(source.describe() + ": tensor '" + ck + "' has shape " + got
                        + " but the model's parameter '" + e.getKey() + "' has shape " + want);
            }
        }
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            String ck = modelToCkpt.get(e.getKey());
            if (ck == null) {
                continue;
            }
            try (NDManager tmp = manager.newSubManager()) {
                NDArray dst = e.getValue().getArray();
                NDArray src =
                        source.load(tmp, ck).toType(dst.getDataType(), false).toDevice(dst.getDevice(), false);
                ArrayOps.assign(dst, src);
            }
            loaded.add(e.getKey());
        }
        LoadReport report = new LoadReport(modelName, source.describe(), loaded, missing, unexpected, renamed);
        report.messages().forEach(LOG::warn);
        return report;
    }

    private static String legacy(String key) {
        if (key.endsWith(".gamma")) {
            return key.substring(0, key.length() - "gamma".length()) + "weight";
        }
        if (key.endsWith(".beta")) {
            return key.substring(0, key.length() - "beta".length()) + "bias";
        }
        return key;
    }
}
