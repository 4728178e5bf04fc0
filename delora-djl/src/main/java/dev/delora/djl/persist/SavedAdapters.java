package dev.delora.djl.persist;

import ai.djl.nn.Block;
import dev.delora.core.LinearAdapter;
import dev.delora.djl.peft.AdaptedModel;
import dev.delora.djl.peft.AdapterNames;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** Loading every adapter of a folder in PEFT's {@code save_pretrained} layout ({@link PeftAdapters#loadAll}). */
final class SavedAdapters {

    private SavedAdapters() {}

    static AdaptedModel loadAll(Block root, Path dir, boolean trainable) throws IOException {
        Map<String, Path> found = find(dir);
        Map<String, AdapterFolderReader.Prepared> prepared = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, Path> e : found.entrySet()) {
                prepared.put(e.getKey(), AdapterFolderReader.prepare(root, e.getValue(), e.getKey()));
            }
        } catch (IOException | RuntimeException e) {
            prepared.values().forEach(AdapterFolderReader.Prepared::discard);
            throw e;
        }
        List<String> names = new ArrayList<>(prepared.keySet());
        AdaptedModel model = null;
        int attached = 0;
        try {
            for (String name : names) {
                AdapterFolderReader.Prepared p = prepared.get(name);
                if (model == null) {
                    model = AdaptedModel.withAdapters(root, name, p.config, p.adapters);
                } else {
                    model.addAdapter(name, p.config, p.adapters);
                }
                attached++;
            }
            // modules_to_save are shared: the active (first) adapter's values are copied last, so they stay
            for (int i = names.size() - 1; i >= 0; i--) {
                prepared.get(names.get(i)).copyModulesToSave();
            }
        } catch (RuntimeException e) {
            // the failing adapter's arrays were closed by the model; those not attached yet are closed here
            for (int i = 0; i < names.size(); i++) {
                AdapterFolderReader.Prepared p = prepared.get(names.get(i));
                if (i > attached) {
                    p.adapters.values().forEach(LinearAdapter::close);
                }
                p.discard();
            }
            if (model != null) {
                model.unload();
            }
            throw e;
        }
        model.setInferenceMode(!trainable);
        return model;
    }

    /** {@code default} for an adapter in {@code dir}, then every sub-folder holding one, by name. */
    static Map<String, Path> find(Path dir) throws IOException {
        Map<String, Path> found = new LinkedHashMap<>();
        if (holdsAdapter(dir)) {
            found.put(AdaptedModel.DEFAULT_ADAPTER, dir);
        }
        if (Files.isDirectory(dir)) {
            try (Stream<Path> children = Files.list(dir)) {
                for (Path sub :
                        children.filter(SavedAdapters::holdsAdapter).sorted().toList()) {
                    String name = sub.getFileName().toString();
                    AdapterNames.check(name);
                    if (found.containsKey(name)) {
                        throw new IllegalArgumentException(dir + " holds an adapter itself and in the sub-folder '"
                                + name + "'; both would be named '" + name + "'");
                    }
                    found.put(name, sub);
                }
            }
        }
        if (found.isEmpty()) {
            throw new IllegalArgumentException(
                    dir + " holds no adapter: neither " + PeftAdapters.CONFIG_FILE + " nor a sub-folder with one");
        }
        return found;
    }

    private static boolean holdsAdapter(Path dir) {
        return Files.isRegularFile(dir.resolve(PeftAdapters.WEIGHTS_FILE))
                && (Files.isRegularFile(dir.resolve(PeftAdapters.CONFIG_FILE))
                        || Files.isRegularFile(AdapterFolderFiles.pending(dir)));
    }
}
