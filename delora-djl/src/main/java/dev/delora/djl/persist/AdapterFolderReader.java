package dev.delora.djl.persist;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import com.google.gson.JsonObject;
import dev.delora.core.AdapterConfig;
import dev.delora.core.LinearAdapter;
import dev.delora.core.array.ArrayOps;
import dev.delora.core.array.GradMode;
import dev.delora.core.method.AdapterMethod;
import dev.delora.core.method.AdapterMethods;
import dev.delora.djl.io.Safetensors;
import dev.delora.djl.tree.TargetModules;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads and validates an adapter folder against a model before anything is attached: the config, every key, shape
 * and dtype, finiteness; then restores the per-module adapters through the config's method. Package-private: the
 * public entry points are {@link PeftAdapters#load}.
 */
final class AdapterFolderReader {

    private static final Logger LOG = LoggerFactory.getLogger(AdapterFolderReader.class);

    private AdapterFolderReader() {}

    /** A validated folder: the config, restored (not yet attached) adapters and the modules_to_save values. */
    static final class Prepared {
        final AdapterConfig config;
        final Map<String, LinearAdapter> adapters;
        private final Map<Parameter, NDArray> moduleValues;
        private final NDManager scratch;

        Prepared(
                AdapterConfig config,
                Map<String, LinearAdapter> adapters,
                Map<Parameter, NDArray> moduleValues,
                NDManager scratch) {
            this.config = config;
            this.adapters = adapters;
            this.moduleValues = moduleValues;
            this.scratch = scratch;
        }

        /**
         * Copies the saved modules_to_save values into the model, then frees the scratch arrays. All or nothing: the
         * current values are kept first and put back if a copy fails (an engine error half-way).
         */
        void copyModulesToSave() {
            Map<Parameter, NDArray> previous = new LinkedHashMap<>();
            try {
                for (Map.Entry<Parameter, NDArray> e : moduleValues.entrySet()) {
                    NDArray target = e.getKey().getArray();
                    NDArray old = target.duplicate();
                    old.attach(scratch);
                    previous.put(e.getKey(), old);
                    ArrayOps.assign(target, e.getValue().toType(target.getDataType(), false));
                }
            } catch (RuntimeException e) {
                previous.forEach((p, old) -> ArrayOps.assign(p.getArray(), old));
                throw e;
            } finally {
                scratch.close();
            }
        }

        /** Frees everything read (after a failure). */
        void discard() {
            scratch.close();
        }
    }

    static Prepared prepare(Block root, Path dirArg, String adapterName) throws IOException {
        Path dir = dirArg;
        if (!Files.exists(dir.resolve(PeftAdapters.CONFIG_FILE))
                && Files.exists(dir.resolve(adapterName).resolve(PeftAdapters.CONFIG_FILE))) {
            dir = dir.resolve(adapterName);
        }
        Path configFile = dir.resolve(PeftAdapters.CONFIG_FILE);
        Path weightsFile = dir.resolve(PeftAdapters.WEIGHTS_FILE);
        // a first save killed before its config was renamed into place left only the pending config: roll forward
        boolean pendingOnly = !Files.isRegularFile(configFile) && Files.isRegularFile(AdapterFolderFiles.pending(dir));
        for (Path f : pendingOnly ? List.of(weightsFile) : List.of(configFile, weightsFile)) {
            if (!Files.isRegularFile(f)) {
                throw new NoSuchFileException(
                        f.toString(),
                        null,
                        "a PEFT adapter folder needs " + PeftAdapters.CONFIG_FILE + " and "
                                + PeftAdapters.WEIGHTS_FILE);
            }
        }
        String recordedHash;
        try (Safetensors.Reader r = Safetensors.open(weightsFile)) {
            recordedHash = r.metadata().get(AdapterFolderFiles.CONFIG_HASH);
        } catch (UncheckedIOException e) {
            throw weightsError(weightsFile, e);
        }
        Map.Entry<Path, String> configText = AdapterFolderFiles.configFor(dir, recordedHash);
        configFile = configText.getKey();
        JsonObject json = AdapterConfigJson.parseObject(configText.getValue(), configFile.toString());
        AdapterConfig config = ModulesToSave.keepPresent(root, AdapterConfigJson.fromJson(json, configFile.toString()));

        Map<String, Linear> targets;
        try {
            targets = TargetModules.select(root, config.targets());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(configFile + " does not fit this model: " + e.getMessage(), e);
        }
        AdapterMethod method = AdapterMethods.of(config);

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
            method.stateShapes(config, e.getKey(), ws.get(0), ws.get(1)).forEach((suffix, shape) -> {
                expected.put(PeftAdapters.PREFIX + e.getKey() + "." + suffix, shape);
                moduleOfKey.put(PeftAdapters.PREFIX + e.getKey() + "." + suffix, e.getKey());
            });
        }
        String taskType = json.has("task_type") && json.get("task_type").isJsonPrimitive()
                ? json.get("task_type").getAsString()
                : null;
        Map<String, Parameter> headParams = ModulesToSave.parameters(root, ModulesToSave.saved(root, config, taskType));
        headParams.forEach(
                (k, p) -> expected.put(PeftAdapters.PREFIX + k, p.getArray().getShape()));

        NDManager scratch = NDManager.newBaseManager(firstWeight(targets).getDevice());
        Map<String, LinearAdapter> adapters = new LinkedHashMap<>();
        try {
            Map<String, NDArray> values = readValidated(weightsFile, expected, scratch);
            Map<String, Map<String, NDArray>> perModule = new LinkedHashMap<>();
            moduleOfKey.forEach((key, module) -> perModule
                    .computeIfAbsent(module, m -> new LinkedHashMap<>())
                    .put(key.substring(PeftAdapters.PREFIX.length() + module.length() + 1), values.get(key)));
            try (GradMode noGraphs = GradMode.off()) {
                for (Map.Entry<String, Map<String, NDArray>> e : perModule.entrySet()) {
                    NDArray weight = targets.get(e.getKey())
                            .getDirectParameters()
                            .get("weight")
                            .getArray();
                    adapters.put(
                            e.getKey(), method.restore(config, e.getKey(), e.getValue(), weight, weight.getManager()));
                }
            }
            Map<Parameter, NDArray> head = new LinkedHashMap<>();
            headParams.forEach((k, p) -> head.put(p, values.get(PeftAdapters.PREFIX + k)));
            LOG.debug(
                    "Validated {} ({} adapter tensors for {} modules, {} modules_to_save tensors) for adapter '{}'",
                    dir,
                    moduleOfKey.size(),
                    targets.size(),
                    head.size(),
                    adapterName);
            return new Prepared(config, adapters, head, scratch);
        } catch (IOException | RuntimeException e) {
            adapters.values().forEach(LinearAdapter::close);
            scratch.close();
            throw e;
        }
    }

    private static NDArray firstWeight(Map<String, Linear> targets) {
        return targets.values()
                .iterator()
                .next()
                .getDirectParameters()
                .get("weight")
                .getArray();
    }

    /** Reads every tensor after checking the key set, shapes and dtypes against the model. */
    private static Map<String, NDArray> readValidated(Path file, Map<String, Shape> expected, NDManager manager)
            throws IOException {
        try (Safetensors.Reader r = Safetensors.open(file)) {
            Map<String, Safetensors.TensorInfo> found = r.tensors();
            List<String> missing = expected.keySet().stream()
                    .filter(k -> !found.containsKey(k))
                    .toList();
            List<String> unexpected = found.keySet().stream()
                    .filter(k -> !expected.containsKey(k))
                    .sorted()
                    .toList();
            if (!missing.isEmpty() || !unexpected.isEmpty()) {
                throw new IllegalArgumentException(file + " does not fit this model and adapter_config.json: "
                        + (missing.isEmpty() ? "" : missing.size() + " missing keys " + head(missing) + "; ")
                        + (unexpected.isEmpty()
                                ? ""
                                : unexpected.size() + " unexpected keys " + head(unexpected)
                                        + " (an adapter for another model, or saved with another config?)"));
            }
            for (Map.Entry<String, Shape> e : expected.entrySet()) {
                Safetensors.TensorInfo t = found.get(e.getKey());
                if (!t.shape().equals(e.getValue())) {
                    throw new IllegalArgumentException(file + ": tensor '" + e.getKey() + "' has shape " + t.shape()
                            + " but this model expects " + e.getValue() + " (an adapter for another model?)");
                }
                switch (t.dtype()) {
                    case F32, F16, BF16, F64 -> {}
                    default ->
                        throw new IllegalArgumentException(file + ": tensor '" + e.getKey() + "' has dtype " + t.dtype()
                                + "; adapter weights must be floating point (F32, F16, BF16, F64)");
                }
            }
            Map<String, NDArray> out = new LinkedHashMap<>();
            for (String key : expected.keySet()) {
                NDArray a = r.read(manager, key);
                // F16/BF16 are read as F32 already; F64 is narrowed
                a = a.getDataType() == DataType.FLOAT32 ? a : a.toType(DataType.FLOAT32, false);
                if (!ArrayOps.allFinite(a)) {
                    throw new IllegalArgumentException(file + ": tensor '" + key + "' contains NaN or Inf");
                }
                out.put(key, a);
            }
            return out;
        } catch (UncheckedIOException e) {
            throw weightsError(file, e);
        }
    }

    /** Safetensors reports a corrupt header or truncated data as unchecked I/O; keep the file and the reason. */
    private static IllegalArgumentException weightsError(Path file, UncheckedIOException e) {
        String msg = e.getMessage() != null && e.getMessage().contains(file.toString())
                ? e.getMessage()
                : file + ": " + e.getMessage();
        return new IllegalArgumentException("Cannot read the adapter weights: " + msg, e);
    }

    /** The first keys of a list, each cut to 100 characters: keys found in a file are untrusted text. */
    private static String head(List<String> keys) {
        List<String> shown = keys.stream()
                .limit(8)
                .map(k -> k.length() > 100 ? k.substring(0, 97) + "..." : k)
                .toList();
        return keys.size() <= 8 ? shown.toString() : shown + " …";
    }
}
