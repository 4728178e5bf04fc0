package dev.delora.djl.persist;

import dev.delora.djl.peft.AdaptedLinear;
import dev.delora.djl.tree.BlockTree;
import dev.delora.djl.peft.AdaptedModel;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dev.delora.core.AdapterConfig;
import dev.delora.core.array.ArrayOps;
import dev.delora.core.LinearAdapter;
import dev.delora.core.LoraFactors;
import dev.delora.core.lora.LoraAdapter;
import dev.delora.core.lora.LoraConfig;
import dev.delora.core.target.TargetSelector;
import dev.delora.core.target.TargetSpec;
import dev.delora.djl.hf.HfSequenceClassifier;
import dev.delora.djl.io.AtomicFiles;
import dev.delora.djl.io.Safetensors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Saves and loads adapters in Hugging Face PEFT's on-disk layout: a folder with {@code adapter_config.json} and
 * {@code adapter_model.safetensors}.
 *
 * <p>Keys are PEFT's: {@code base_model.model.<module path>.<suffix>} with the adapter name stripped
 * ({@code …query.lora_A.weight}, {@code …query.delora_A}, {@code …query.delora_w_norm}), and {@code modules_to_save}
 * parameters flattened as PEFT saves them ({@code base_model.model.classifier.dense.weight}). LoRA and DeLoRA
 * ({@code init_weights} true/false) files are exactly what PEFT writes and loads. DeLoRA's paper mode, LoRA-XS and
 * SoRA are saved in the same layout under our own {@code peft_type} ({@code DELORA_PAPER}, {@code LORAXS},
 * {@code SORA}), which PEFT refuses; {@link #saveAsLora} writes any adapter as an exactly equivalent plain LoRA that
 * PEFT loads.
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

    private static final Logger LOG = LoggerFactory.getLogger(PeftAdapters.class);

    private PeftAdapters() {}

    /**
     * Descriptive fields of {@code adapter_config.json} that do not change the adapter.
     *
     * @param taskType PEFT's {@code task_type} (e.g. {@code SEQ_CLS}), or {@code null}
     * @param baseModelNameOrPath the base model's hub id or folder, or {@code null}
     */
    public record Metadata(String taskType, String baseModelNameOrPath) {

        /**
         * Infers the task type from the model: {@code SEQ_CLS} for {@link HfSequenceClassifier}, else none.
         *
         * @param root the model's root block
         * @return the metadata, without a base model name
         */
        public static Metadata infer(Block root) {
            return new Metadata(root instanceof HfSequenceClassifier ? "SEQ_CLS" : null, null);
        }

        /**
         * Returns a copy naming the base model.
         *
         * @param name the hub id or folder written as {@code base_model_name_or_path}
         * @return the new metadata
         */
        public Metadata withBaseModel(String name) {
            return new Metadata(taskType, name);
        }
    }

    // ------------------------------------------------------------------ saving

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
     * ({@link Metadata#infer}). The model is not changed; a merged adapter is saved as well (its factors are unchanged).
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
        AdapterConfig config = requireAdapter(model, adapterName);
        List<String> modulesToSave = savedModules(model.block(), config, metadata);
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, AdaptedLinear> e : model.adaptedModules().entrySet()) {
            LinearAdapter a = e.getValue().adapters().get(adapterName);
            if (a != null) {
                a.parameters().forEach((k, p) -> tensors.put(PREFIX + e.getKey() + "." + k, p.getArray()));
                a.buffers().forEach((k, v) -> tensors.put(PREFIX + e.getKey() + "." + k, v));
            }
        }
        modulesToSaveParameters(model.block(), modulesToSave)
                .forEach((k, p) -> tensors.put(PREFIX + k, p.getArray()));
        return write(dir, adapterName, tensors, configToJson(config, metadata));
    }

    /**
     * Saves an adapter as a plain PEFT LoRA that computes exactly the same update ({@link LinearAdapter#toLora()}),
     * without changing the model: DeLoRA folds λ, the normalisation and ‖W‖ into the factors (rank 2r with B = [B, −D]
     * and A = [A; C] in paper mode), LoRA-XS saves B' = U_r·R and A' = Σ_r·V_rᵀ, SoRA keeps the ranks whose gate is
     * non-zero with g folded into B. Each module's rank and α go to {@code rank_pattern}/{@code alpha_pattern} (keyed
     * by the full module path), so any PEFT user can load the folder.
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
        AdapterConfig old = requireAdapter(model, adapterName);
        TargetSpec t = old.targets();
        LoraConfig.Builder builder = LoraConfig.builder().targetModules(t.targetModules())
                .excludeModules(t.excludeModules())
                .layersToTransform(t.layersToTransform().stream().mapToInt(Integer::intValue).toArray())
                .layersPattern(t.layersPattern().toArray(String[]::new))
                .modulesToSave(t.modulesToSave().toArray(String[]::new))
                .loraDropout(AdapterFormats.of(old).dropout(old));
        Map<String, NDArray> tensors = new LinkedHashMap<>();
        List<LoraFactors> factors = new ArrayList<>();
        int maxRank = 1;
        try {
            for (Map.Entry<String, AdaptedLinear> e : model.adaptedModules().entrySet()) {
                LinearAdapter a = e.getValue().adapters().get(adapterName);
                if (a == null) {
                    continue;
                }
                LoraFactors f = a.toLora();
                factors.add(f);
                int rank = (int) f.rank();
                maxRank = Math.max(maxRank, rank);
                tensors.put(PREFIX + e.getKey() + "." + LoraAdapter.A, f.a());
                tensors.put(PREFIX + e.getKey() + "." + LoraAdapter.B, f.b());
                // PEFT's scaling is alpha/r, so alpha = scaling * rank reproduces each module's scaling
                builder.rankPattern(e.getKey(), rank).alphaPattern(e.getKey(), f.scaling() * rank);
            }
            LoraConfig lora = builder.r(maxRank).loraAlpha(maxRank).build();
            List<String> modulesToSave = savedModules(model.block(), lora, metadata);
            modulesToSaveParameters(model.block(), modulesToSave)
                    .forEach((k, p) -> tensors.put(PREFIX + k, p.getArray()));
            return write(dir, adapterName, tensors, configToJson(lora, metadata));
        } finally {
            factors.forEach(LoraFactors::close);
        }
    }

    private static Path write(Path dir, String adapterName, Map<String, NDArray> tensors, JsonObject json)
            throws IOException {
        Path out = AdaptedModel.DEFAULT_ADAPTER.equals(adapterName) ? dir : dir.resolve(adapterName);
        Files.createDirectories(out);
        // weights first: a folder whose config exists is complete (each file is replaced atomically)
        Safetensors.write(out.resolve(WEIGHTS_FILE), tensors, Map.of("format", "pt"));
        AtomicFiles.writeString(out.resolve(CONFIG_FILE),
                new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(json) + "\n");
        return out;
    }

    /**
     * Encodes a config as {@code adapter_config.json} with PEFT's field names.
     *
     * @param config the config
     * @param metadata task type and base model name
     * @return the JSON object
     */
    public static JsonObject configToJson(AdapterConfig config, Metadata metadata) {
        JsonObject o = new JsonObject();
        o.addProperty("peft_type", AdapterFormats.peftType(config));
        o.addProperty("task_type", metadata.taskType());
        o.addProperty("base_model_name_or_path", metadata.baseModelNameOrPath());
        o.addProperty("inference_mode", false);
        AdapterFormats.of(config).toJson(config).entrySet().forEach(e -> o.add(e.getKey(), e.getValue()));
        AdapterFormats.writeTargets(o, config.targets(), config.targets().modulesToSave());
        // sorted like PEFT's own files, which makes diffs against them readable
        JsonObject sorted = new JsonObject();
        TreeMap<String, JsonElement> byName = new TreeMap<>();
        o.entrySet().forEach(e -> byName.put(e.getKey(), e.getValue()));
        byName.forEach(sorted::add);
        return sorted;
    }

    /**
     * Decodes {@code adapter_config.json} (PEFT's full field set is accepted; fields that do not change the adapter
     * are ignored with a debug log; unsupported values such as {@code use_dora=true}, {@code bias!="none"},
     * {@code fan_in_fan_out=true} or {@code init_lora_weights="pissa"} are rejected).
     *
     * @param json the file's content
     * @param source the file name, for messages
     * @return the config
     * @throws IllegalArgumentException naming the file and field on unsupported or malformed values
     */
    public static AdapterConfig configFromJson(JsonObject json, String source) {
        AdapterFormats.Json j = new AdapterFormats.Json(json, source);
        String type = j.string("peft_type", null);
        if (type == null) {
            throw j.error("peft_type is missing");
        }
        AdapterFormats.Format format = AdapterFormats.of(type, source);
        TargetSpec targets;
        try {
            targets = AdapterFormats.readTargets(j);
        } catch (IllegalArgumentException e) {
            throw e.getMessage().startsWith(source) ? e : j.error(e.getMessage());
        }
        AdapterConfig config;
        try {
            config = format.fromJson(j, targets);
        } catch (IllegalArgumentException e) {
            throw e.getMessage().startsWith(source) ? e : j.error(e.getMessage());
        }
        j.finish();
        return config;
    }

    // ------------------------------------------------------------------ loading

    /**
     * Loads a saved adapter onto a model without adapters as {@value AdaptedModel#DEFAULT_ADAPTER} (PEFT's
     * {@code PeftModel.from_pretrained}); see {@link #load(Block, Path, String)}.
     *
     * @param root the base model, weights loaded
     * @param dir the adapter folder
     * @return the handle, the adapter active
     * @throws IOException if a file cannot be read
     */
    public static AdaptedModel load(Block root, Path dir) throws IOException {
        return load(root, dir, AdaptedModel.DEFAULT_ADAPTER);
    }

    /**
     * Loads a saved adapter onto a model without adapters and returns the handle, the adapter active.
     *
     * @param root the base model (weights loaded)
     * @param dir the adapter folder ({@code dir/<name>/} is used when {@code dir} has no config but it does)
     * @param adapterName the name to give the adapter
     * @return the new handle
     * @throws IOException if a file cannot be read
     * @throws IllegalArgumentException if the folder does not fit the model (the model is unchanged then)
     */
    public static AdaptedModel load(Block root, Path dir, String adapterName) throws IOException {
        Prepared p = prepare(root, dir, adapterName);
        AdaptedModel model;
        try {
            model = AdaptedModel.withAdapters(root, adapterName, p.config, p.adapters);
        } catch (RuntimeException e) {
            p.scratch.close();
            throw e;
        }
        p.copyModulesToSave();
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
        if (model.adapters().containsKey(adapterName)) {
            throw new IllegalArgumentException("An adapter named '" + adapterName + "' already exists; adapters: "
                    + model.adapters().keySet());
        }
        Prepared p = prepare(model.block(), dir, adapterName);
        try {
            model.addAdapter(adapterName, p.config, p.adapters);
        } catch (RuntimeException e) {
            p.scratch.close();
            throw e;
        }
        p.copyModulesToSave();
    }

    /** A validated folder: the config, restored (not yet attached) adapters and the modules_to_save values. */
    private static final class Prepared {
        final AdapterConfig config;
        final Map<String, LinearAdapter> adapters;
        final Map<Parameter, NDArray> moduleValues;
        final NDManager scratch;

        Prepared(AdapterConfig config, Map<String, LinearAdapter> adapters, Map<Parameter, NDArray> moduleValues,
                NDManager scratch) {
            this.config = config;
            this.adapters = adapters;
            this.moduleValues = moduleValues;
            this.scratch = scratch;
        }

        void copyModulesToSave() {
            try {
                moduleValues.forEach((p, v) -> {
                    NDArray target = p.getArray();
                    target.set(new NDIndex(":"), v.toType(target.getDataType(), false));
                });
            } finally {
                scratch.close();
            }
        }
    }

    private static Prepared prepare(Block root, Path dirArg, String adapterName)
            throws IOException {
        Path dir = dirArg;
        if (!Files.exists(dir.resolve(CONFIG_FILE)) && Files.exists(dir.resolve(adapterName).resolve(CONFIG_FILE))) {
            dir = dir.resolve(adapterName);
        }
        Path configFile = dir.resolve(CONFIG_FILE);
        Path weightsFile = dir.resolve(WEIGHTS_FILE);
        for (Path f : List.of(configFile, weightsFile)) {
            if (!Files.isRegularFile(f)) {
                throw new NoSuchFileException(f.toString(), null, "a PEFT adapter folder needs " + CONFIG_FILE
                        + " and " + WEIGHTS_FILE);
            }
        }
        JsonElement parsed;
        try {
            parsed = JsonParser.parseString(Files.readString(configFile, StandardCharsets.UTF_8));
        } catch (JsonParseException e) {
            throw new IllegalArgumentException(configFile + " is not valid JSON: " + e.getMessage(), e);
        }
        if (!parsed.isJsonObject()) {
            throw new IllegalArgumentException(configFile + " must hold a JSON object");
        }
        AdapterConfig config = withModulesToSaveIn(root, configFromJson(parsed.getAsJsonObject(),
                configFile.toString()));

        Map<String, Linear> targets;
        try {
            targets = AdaptedModel.targetModules(root, config);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(configFile + " does not fit this model: " + e.getMessage(), e);
        }
        AdapterFormats.Format format = AdapterFormats.of(config);

        // what the file must hold: each target's suffixes, then the modules_to_save parameters
        Map<String, Shape> expected = new LinkedHashMap<>();
        Map<String, String> moduleOfKey = new LinkedHashMap<>();
        for (Map.Entry<String, Linear> e : targets.entrySet()) {
            Parameter w = e.getValue().getDirectParameters().get("weight");
            if (w == null || !w.isInitialized()) {
                throw new IllegalArgumentException("Module '" + e.getKey() + "' is not initialised; load the base "
                        + "weights before the adapter");
            }
            Shape ws = w.getArray().getShape();
            format.shapes(config, e.getKey(), ws.get(0), ws.get(1)).forEach((suffix, shape) -> {
                expected.put(PREFIX + e.getKey() + "." + suffix, shape);
                moduleOfKey.put(PREFIX + e.getKey() + "." + suffix, e.getKey());
            });
        }
        JsonElement taskType = parsed.getAsJsonObject().get("task_type");
        Map<String, Parameter> headParams = modulesToSaveParameters(root, savedModules(root, config,
                taskType == null || taskType.isJsonNull() ? null : taskType.getAsString()));
        headParams.forEach((k, p) -> expected.put(PREFIX + k, p.getArray().getShape()));

        NDManager scratch = NDManager.newBaseManager(firstWeight(targets).getDevice());
        Map<String, LinearAdapter> adapters = new LinkedHashMap<>();
        try {
            Map<String, NDArray> values = readValidated(weightsFile, expected, scratch);
            Map<String, Map<String, NDArray>> perModule = new LinkedHashMap<>();
            moduleOfKey.forEach((key, module) -> perModule.computeIfAbsent(module, m -> new LinkedHashMap<>())
                    .put(key.substring(PREFIX.length() + module.length() + 1), values.get(key)));
            for (Map.Entry<String, Map<String, NDArray>> e : perModule.entrySet()) {
                NDArray weight = targets.get(e.getKey()).getDirectParameters().get("weight").getArray();
                adapters.put(e.getKey(), format.restore(config, e.getKey(), e.getValue(), weight,
                        weight.getManager()));
            }
            Map<Parameter, NDArray> head = new LinkedHashMap<>();
            headParams.forEach((k, p) -> head.put(p, values.get(PREFIX + k)));
            LOG.debug("Validated {} ({} adapter tensors for {} modules, {} modules_to_save tensors) for adapter '{}'",
                    dir, moduleOfKey.size(), targets.size(), head.size(), adapterName);
            return new Prepared(config, adapters, head, scratch);
        } catch (IOException | RuntimeException e) {
            adapters.values().forEach(LinearAdapter::close);
            scratch.close();
            throw e;
        }
    }

    private static NDArray firstWeight(Map<String, Linear> targets) {
        return targets.values().iterator().next().getDirectParameters().get("weight").getArray();
    }

    /** Reads every tensor after checking the key set, shapes and dtypes against the model. */
    private static Map<String, NDArray> readValidated(Path file, Map<String, Shape> expected, NDManager manager)
            throws IOException {
        try (Safetensors.Reader r = Safetensors.open(file)) {
            Map<String, Safetensors.TensorInfo> found = r.tensors();
            List<String> missing = expected.keySet().stream().filter(k -> !found.containsKey(k)).toList();
            List<String> unexpected = found.keySet().stream().filter(k -> !expected.containsKey(k)).sorted().toList();
            if (!missing.isEmpty() || !unexpected.isEmpty()) {
                throw new IllegalArgumentException(file + " does not fit this model and adapter_config.json: "
                        + (missing.isEmpty() ? "" : missing.size() + " missing keys " + head(missing) + "; ")
                        + (unexpected.isEmpty() ? "" : unexpected.size() + " unexpected keys " + head(unexpected)
                        + " (an adapter for another model, or saved with another config?)"));
            }
            for (Map.Entry<String, Shape> e : expected.entrySet()) {
                Safetensors.TensorInfo t = found.get(e.getKey());
                if (!t.shape().equals(e.getValue())) {
                    throw new IllegalArgumentException(file + ": tensor '" + e.getKey() + "' has shape " + t.shape()
                            + " but this model expects " + e.getValue() + " (an adapter for another model?)");
                }
                switch (t.dtype()) {
                    case F32, F16, BF16, F64 -> { }
                    default -> throw new IllegalArgumentException(file + ": tensor '" + e.getKey() + "' has dtype "
                            + t.dtype() + "; adapter weights must be floating point (F32, F16, BF16, F64)");
                }
            }
            Map<String, NDArray> out = new LinkedHashMap<>();
            for (String key : expected.keySet()) {
                NDArray a = AdapterFormats.float32(r.read(manager, key));
                if (!ArrayOps.allFinite(a)) {
                    throw new IllegalArgumentException(file + ": tensor '" + key + "' contains NaN or Inf");
                }
                out.put(key, a);
            }
            return out;
        } catch (UncheckedIOException e) {
            // Safetensors reports a corrupt header or truncated data this way; keep the file and reason
            String msg = e.getMessage() != null && e.getMessage().contains(file.toString()) ? e.getMessage()
                    : file + ": " + e.getMessage();
            throw new IllegalArgumentException("Cannot read the adapter weights: " + msg, e);
        }
    }

    private static String head(List<String> keys) {
        return keys.size() <= 8 ? keys.toString() : keys.subList(0, 8) + " …";
    }

    // ------------------------------------------------------------------ modules_to_save

    /**
     * The modules whose weights are saved with an adapter: the config's modules_to_save, plus the classification head
     * for {@code SEQ_CLS}, as PEFT's {@code PeftModelForSequenceClassification} adds {@code classifier}/{@code score}
     * itself (and expects their weights in the file) whatever the config says.
     */
    private static List<String> savedModules(Block root, AdapterConfig config, Metadata metadata) {
        return savedModules(root, config, metadata.taskType());
    }

    private static List<String> savedModules(Block root, AdapterConfig config, String taskType) {
        Set<String> out = new LinkedHashSet<>(config.targets().modulesToSave());
        if ("SEQ_CLS".equals(taskType) && root instanceof HfSequenceClassifier c) {
            out.addAll(c.headModules());
        }
        return List.copyOf(out);
    }

    /** Parameters (state-dict key → parameter) of the modules named by modules_to_save entries, and their children. */
    private static Map<String, Parameter> modulesToSaveParameters(Block root, List<String> entries) {
        Map<String, Parameter> out = new LinkedHashMap<>();
        if (entries.isEmpty()) {
            return out;
        }
        Set<String> modules = new LinkedHashSet<>();
        BlockTree.nodes(root).keySet().stream()
                .filter(p -> !p.isEmpty() && entries.stream().anyMatch(e -> TargetSelector.namesModuleToSave(e, p)))
                .forEach(modules::add);
        BlockTree.parameters(root).forEach((key, p) -> {
            String module = key.substring(0, Math.max(0, key.lastIndexOf('.')));
            if (modules.contains(module)) {
                out.put(key, p);
            }
        });
        return out;
    }

    /**
     * Drops modules_to_save entries that match no module of this model: PEFT adds {@code ["classifier", "score"]}
     * for every SEQ_CLS adapter and skips the one a model does not have.
     */
    private static AdapterConfig withModulesToSaveIn(Block root, AdapterConfig config) {
        List<String> entries = config.targets().modulesToSave();
        Set<String> paths = BlockTree.nodes(root).keySet();
        List<String> kept = entries.stream()
                .filter(e -> paths.stream().anyMatch(p -> !p.isEmpty() && TargetSelector.namesModuleToSave(e, p)))
                .toList();
        if (kept.size() == entries.size()) {
            return config;
        }
        LOG.debug("modules_to_save entries {} match no module of this model; ignored as PEFT does", entries.stream()
                .filter(e -> !kept.contains(e)).toList());
        JsonObject json = configToJson(config, new Metadata(null, null));
        json.add("modules_to_save", kept.isEmpty() ? JsonNull.INSTANCE
                : new GsonBuilder().create().toJsonTree(kept));
        return configFromJson(json, "adapter_config.json");
    }

    private static AdapterConfig requireAdapter(AdaptedModel model, String name) {
        AdapterConfig config = model.adapters().get(name);
        if (config == null) {
            throw new IllegalArgumentException("No adapter named '" + name + "'; adapters: "
                    + model.adapters().keySet());
        }
        return config;
    }
}
