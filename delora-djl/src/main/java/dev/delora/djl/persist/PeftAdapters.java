package dev.delora.djl.persist;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import com.google.gson.JsonObject;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LoraFactors;
import dev.delora.core.array.ArrayOps;
import dev.delora.core.lora.LoraAdapter;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.djl.peft.AdapterNames;
import dev.delora.djl.peft.LoraForm;
import dev.delora.djl.peft.PeftTaskModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Saves and loads adapters in Hugging Face PEFT's on-disk layout: a folder with {@code adapter_config.json} and
 * {@code adapter_model.safetensors}.
 *
 * <p>Keys are PEFT's: {@code base_model.model.<module path>.<suffix>} with the adapter name stripped
 * ({@code …query.lora_A.weight}, {@code …query.delora_A}, {@code …query.delora_w_norm}), and {@code modules_to_save}
 * parameters flattened as PEFT saves them ({@code base_model.model.classifier.dense.weight}). Each method's fields and
 * state-dict entries come from its registered {@link dev.delora.core.method.AdapterMethod}: LoRA and DeLoRA
 * ({@code init_weights} true/false) files are exactly what PEFT writes and loads; DeLoRA's paper mode, LoRA-XS and
 * SoRA use our own {@code peft_type} ({@code DELORA_PAPER}, {@code LORAXS}, {@code SORA}), which PEFT refuses;
 * {@link #saveAsLora} writes any adapter as an exactly equivalent plain LoRA that PEFT loads.
 *
 * <p>Loading validates the whole folder before it touches the model (config fields, every key, shape and dtype
 * against the model's modules); on any error the model is unchanged. See {@code docs/persistence.md}.
 */
public final class PeftAdapters {

    /** The adapter config file name. */
    public static final String CONFIG_FILE = "adapter_config.json";
    /** The adapter weights file name. */
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";
    /** PEFT's prefix of every saved key ({@code PeftModel.base_model.model}). */
    public static final String PREFIX = "base_model.model.";

    private PeftAdapters() {}

    /**
     * Descriptive fields of {@code adapter_config.json} that do not change the adapter.
     *
     * @param taskType PEFT's {@code task_type} (e.g. {@code SEQ_CLS}), or {@code null}
     * @param baseModelNameOrPath the base model's hub id or folder, or {@code null}
     * @param revision the base model's hub revision ({@code revision}), or {@code null} (as PEFT writes it when
     *     unknown)
     */
    public record Metadata(String taskType, String baseModelNameOrPath, String revision) {

        /**
         * Metadata without a revision.
         *
         * @param taskType PEFT's {@code task_type}, or {@code null}
         * @param baseModelNameOrPath the base model's hub id or folder, or {@code null}
         */
        public Metadata(String taskType, String baseModelNameOrPath) {
            this(taskType, baseModelNameOrPath, null);
        }

        /**
         * Infers the task type from the model ({@link PeftTaskModel#peftTaskType()}, else none).
         *
         * @param root the model's root block
         * @return the metadata, without a base model name
         */
        public static Metadata infer(Block root) {
            return new Metadata(root instanceof PeftTaskModel t ? t.peftTaskType() : null, null, null);
        }

        /**
         * Returns a copy naming the base model.
         *
         * @param name the hub id or folder written as {@code base_model_name_or_path}
         * @return the new metadata
         */
        public Metadata withBaseModel(String name) {
            return new Metadata(taskType, name, revision);
        }

        /**
         * Returns a copy naming the base model's revision.
         *
         * @param rev the hub revision (branch, tag or commit) written as {@code revision}
         * @return the new metadata
         */
        public Metadata withRevision(String rev) {
            return new Metadata(taskType, baseModelNameOrPath, rev);
        }
    }

    /**
     * Saves the active adapter as PEFT's {@code save_pretrained} does (see {@link #save(AdaptedModel, String, Path)}).
     *
     * @param model the model
     * @param dir the output folder ({@code dir/<name>/} for a non-default adapter, as PEFT)
     * @return the folder written
     * @throws IOException if writing fails
     */
    public static Path save(AdaptedModel model, Path dir) throws IOException {
        return save(model, model.activeAdapter(), dir);
    }

    /**
     * Saves an adapter as PEFT's {@code save_pretrained} does: into {@code dir} for the adapter
     * {@value AdaptedModel#DEFAULT_ADAPTER}, into {@code dir/<name>/} otherwise. Metadata is inferred
     * ({@link Metadata#infer}). The model is not changed; a merged adapter is saved as well (its factors are
     * unchanged).
     *
     * @param model the model
     * @param adapterName the adapter to save
     * @param dir the output folder
     * @return the folder written
     * @throws IOException if writing fails
     */
    public static Path save(AdaptedModel model, String adapterName, Path dir) throws IOException {
        return save(model, adapterName, dir, Metadata.infer(model.block()));
    }

    /**
     * Saves an adapter with explicit metadata.
     *
     * @param model the model
     * @param adapterName the adapter to save
     * @param dir the output folder ({@code dir/<name>/} for a non-default adapter)
     * @param metadata task type and base model name
     * @return the folder written
     * @throws IOException if writing fails
     */
    public static Path save(AdaptedModel model, String adapterName, Path dir, Metadata metadata) throws IOException {
        AdapterConfig config = AdapterStateDicts.requireAdapter(model, adapterName);
        return write(config, metadata, dir, adapterName, AdapterStateDicts.live(model, adapterName, metadata));
    }

    /**
     * Saves an adapter as a plain PEFT LoRA that computes exactly the same update ({@link LoraForm}), without changing
     * the model: DeLoRA folds λ, the normalisation and ‖W‖ into the factors (rank 2r with B = [B, −D] and A = [A; C]
     * in paper mode), LoRA-XS saves B' = U_r·R and A' = Σ_r·V_rᵀ, SoRA keeps the ranks whose gate is non-zero with g
     * folded into B. The folder is the one {@link AdaptedModel#convertToLora} followed by {@link #save} writes.
     *
     * @param model the model
     * @param adapterName the adapter to convert and save
     * @param dir the output folder ({@code dir/<name>/} for a non-default adapter)
     * @return the folder written
     * @throws IOException if writing fails
     */
    public static Path saveAsLora(AdaptedModel model, String adapterName, Path dir) throws IOException {
        return saveAsLora(model, adapterName, dir, Metadata.infer(model.block()));
    }

    /**
     * Saves an adapter as a plain PEFT LoRA with explicit metadata (see {@link #saveAsLora(AdaptedModel, String,
     * Path)}).
     *
     * @param model the model
     * @param adapterName the adapter to convert and save
     * @param dir the output folder
     * @param metadata task type and base model name
     * @return the folder written
     * @throws IOException if writing fails
     */
    public static Path saveAsLora(AdaptedModel model, String adapterName, Path dir, Metadata metadata)
            throws IOException {
        AdapterStateDicts.requireAdapter(model, adapterName);
        try (LoraForm form = LoraForm.of(model, adapterName)) {
            Map<String, NDArray> tensors = new LinkedHashMap<>();
            for (Map.Entry<String, LoraFactors> e : form.factors().entrySet()) {
                tensors.put(
                        PREFIX + e.getKey() + "." + LoraAdapter.A, e.getValue().a());
                tensors.put(
                        PREFIX + e.getKey() + "." + LoraAdapter.B, e.getValue().b());
            }
            AdapterStateDicts.headArrays(model.block(), form.config(), metadata, tensors::put);
            return write(form.config(), metadata, dir, adapterName, tensors);
        }
    }

    private static Path write(
            AdapterConfig config, Metadata metadata, Path dir, String adapterName, Map<String, NDArray> tensors)
            throws IOException {
        Path out = outputFolder(dir, adapterName);
        String configText = checked(config, metadata, dir, adapterName, tensors);
        AdapterFolderFiles.write(out, configText, tensors);
        return out;
    }

    /** Refuses, before the folder is touched, what could not be loaded back; returns the config file's text. */
    private static String checked(
            AdapterConfig config, Metadata metadata, Path dir, String adapterName, Map<String, NDArray> tensors) {
        if (tensors.isEmpty()) {
            throw new IllegalStateException("Adapter '" + adapterName + "' has no tensors to save (the model was "
                    + "unloaded, or the adapter deleted); " + dir + " is unchanged");
        }
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            if (!ArrayOps.allFinite(e.getValue())) {
                throw new IllegalStateException("Tensor '" + e.getKey() + "' of adapter '" + adapterName
                        + "' contains NaN or Inf; not saved, " + dir + " is unchanged");
            }
        }
        return AdapterConfigJson.format(configToJson(config, metadata));
    }

    /**
     * Saves every adapter of a model as PEFT's {@code save_pretrained} does without {@code selected_adapters}: the
     * adapter {@value AdaptedModel#DEFAULT_ADAPTER} into {@code dir}, every other one into {@code dir/<name>/}
     * (when no adapter is called {@value AdaptedModel#DEFAULT_ADAPTER}, {@code dir} itself gets no adapter files,
     * as in PEFT). Every adapter is checked before any folder is written; each folder is then replaced atomically
     * (see {@link #save(AdaptedModel, String, Path, Metadata)}), one after the other, so a crash half-way leaves
     * every folder holding its old adapter or its new one.
     *
     * @param model the model
     * @param dir the output folder
     * @param metadata task type, base model name and revision
     * @return adapter name to the folder written, in the model's adapter order
     * @throws IOException if writing fails
     */
    public static Map<String, Path> saveAll(AdaptedModel model, Path dir, Metadata metadata) throws IOException {
        Map<String, Map<String, NDArray>> tensors = new LinkedHashMap<>();
        Map<String, String> texts = new LinkedHashMap<>();
        for (Map.Entry<String, AdapterConfig> e : model.adapters().entrySet()) {
            Map<String, NDArray> t = AdapterStateDicts.live(model, e.getKey(), metadata);
            texts.put(e.getKey(), checked(e.getValue(), metadata, dir, e.getKey(), t));
            tensors.put(e.getKey(), t);
        }
        Map<String, Path> written = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : texts.entrySet()) {
            Path out = outputFolder(dir, e.getKey());
            AdapterFolderFiles.write(out, e.getValue(), tensors.get(e.getKey()));
            written.put(e.getKey(), out);
        }
        return written;
    }

    /**
     * Saves every adapter with inferred metadata ({@link #saveAll(AdaptedModel, Path, Metadata)}).
     *
     * @param model the model
     * @param dir the output folder
     * @return adapter name to the folder written
     * @throws IOException if writing fails
     */
    public static Map<String, Path> saveAll(AdaptedModel model, Path dir) throws IOException {
        return saveAll(model, dir, Metadata.infer(model.block()));
    }

    /**
     * Loads every adapter of a folder written by {@link #saveAll} or by PEFT's {@code save_pretrained}: the adapter in
     * {@code dir} itself as {@value AdaptedModel#DEFAULT_ADAPTER}, and each sub-folder holding an adapter under the
     * sub-folder's name (sorted by name). The first one ({@value AdaptedModel#DEFAULT_ADAPTER} if present) is active;
     * its {@code modules_to_save} values are the ones the model keeps. All folders are validated before the model is
     * touched; on any error the model is unchanged.
     *
     * @param root the base model (weights loaded), without adapters
     * @param dir the folder
     * @param trainable false for inference (every parameter frozen), true to train the active adapter
     * @return the handle
     * @throws IOException if a file cannot be read
     * @throws IllegalArgumentException if the folder holds no adapter or one does not fit the model
     */
    public static AdaptedModel loadAll(Block root, Path dir, boolean trainable) throws IOException {
        return SavedAdapters.loadAll(root, dir, trainable);
    }

    /** {@code dir} for the default adapter, {@code dir/<name>} otherwise (the name cannot leave {@code dir}). */
    static Path outputFolder(Path dir, String adapterName) {
        AdapterNames.check(adapterName);
        return AdaptedModel.DEFAULT_ADAPTER.equals(adapterName) ? dir : dir.resolve(adapterName);
    }

    /**
     * Encodes a config as {@code adapter_config.json} with PEFT's field names ({@link AdapterConfigJson#toJson}).
     *
     * @param config the config
     * @param metadata task type and base model name
     * @return the JSON object
     */
    public static JsonObject configToJson(AdapterConfig config, Metadata metadata) {
        return AdapterConfigJson.toJson(config, metadata);
    }

    /**
     * Decodes {@code adapter_config.json} ({@link AdapterConfigJson#fromJson}).
     *
     * @param json the file's content
     * @param source the file name, for messages
     * @return the config
     * @throws IllegalArgumentException naming the file and field on unsupported or malformed values
     */
    public static AdapterConfig configFromJson(JsonObject json, String source) {
        return AdapterConfigJson.fromJson(json, source);
    }

    /**
     * Loads a saved adapter onto a model without adapters as {@value AdaptedModel#DEFAULT_ADAPTER}, for inference
     * (PEFT's {@code PeftModel.from_pretrained}); see {@link #load(Block, Path, String, boolean)}.
     *
     * @param root the base model, weights loaded
     * @param dir the adapter folder
     * @return the handle, the adapter active, every parameter frozen
     * @throws IOException if a file cannot be read
     */
    public static AdaptedModel load(Block root, Path dir) throws IOException {
        return load(root, dir, AdaptedModel.DEFAULT_ADAPTER, false);
    }

    /**
     * Loads a saved adapter onto a model without adapters, for inference ({@link #load(Block, Path, String, boolean)}
     * with {@code trainable} false).
     *
     * @param root the base model (weights loaded)
     * @param dir the adapter folder ({@code dir/<name>/} is used when {@code dir} has no config but it does)
     * @param adapterName the name to give the adapter
     * @return the new handle
     * @throws IOException if a file cannot be read
     */
    public static AdaptedModel load(Block root, Path dir, String adapterName) throws IOException {
        return load(root, dir, adapterName, false);
    }

    /**
     * Loads a saved adapter onto a model without adapters and returns the handle, the adapter active. Like PEFT's
     * {@code is_trainable}, {@code trainable} false loads for inference (every parameter frozen,
     * {@link AdaptedModel#setInferenceMode}); true makes the adapter and its {@code modules_to_save} trainable.
     * Works on any thread; the folder is validated completely before the model is touched, and on any error the
     * model is unchanged.
     *
     * @param root the base model (weights loaded)
     * @param dir the adapter folder ({@code dir/<name>/} is used when {@code dir} has no config but it does)
     * @param adapterName the name to give the adapter
     * @param trainable whether to train the loaded adapter further
     * @return the new handle
     * @throws IOException if a file cannot be read
     * @throws IllegalArgumentException if the folder does not fit the model (the model is unchanged then)
     */
    public static AdaptedModel load(Block root, Path dir, String adapterName, boolean trainable) throws IOException {
        AdapterNames.check(adapterName);
        AdapterFolderReader.Prepared p = AdapterFolderReader.prepare(root, dir, adapterName);
        AdaptedModel model;
        try {
            model = AdaptedModel.withAdapters(root, adapterName, p.config, p.adapters);
        } catch (RuntimeException e) {
            p.discard();
            throw e;
        }
        try {
            p.copyModulesToSave();
        } catch (RuntimeException e) {
            model.unload(); // the block as it was: no wrapped module, the head values put back
            throw e;
        }
        model.setInferenceMode(!trainable);
        return model;
    }

    /**
     * Loads a saved adapter into an existing handle as another (inactive) adapter, as PEFT's {@code load_adapter}.
     * Saved {@code modules_to_save} values are copied into the model's (shared) modules.
     *
     * @param model the handle
     * @param dir the adapter folder ({@code dir/<name>/} is used when {@code dir} has no config but it does)
     * @param adapterName the new adapter's name
     * @throws IOException if a file cannot be read
     * @throws IllegalArgumentException if the name is taken or the folder does not fit the model (the model is
     *     unchanged then)
     */
    public static void load(AdaptedModel model, Path dir, String adapterName) throws IOException {
        AdapterNames.check(adapterName);
        if (model.adapters().containsKey(adapterName)) {
            throw new IllegalArgumentException("An adapter named '" + adapterName + "' already exists; adapters: "
                    + model.adapters().keySet());
        }
        AdapterFolderReader.Prepared p = AdapterFolderReader.prepare(model.block(), dir, adapterName);
        try {
            model.addAdapter(adapterName, p.config, p.adapters);
        } catch (RuntimeException e) {
            p.discard();
            throw e;
        }
        try {
            p.copyModulesToSave();
        } catch (RuntimeException e) {
            model.deleteAdapter(adapterName); // the head values were put back
            throw e;
        }
    }
}
