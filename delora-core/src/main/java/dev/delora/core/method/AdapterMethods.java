package dev.delora.core.method;

import dev.delora.core.AdapterConfig;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeSet;

/**
 * The registry of adapter methods: the only code that lists them. Methods are found once, with
 * {@link ServiceLoader} on this library's class loader, from {@code
 * META-INF/services/dev.delora.core.method.AdapterMethod}
 * files; the built-in ones (LoRA, DoRA, DeLoRA, LoRA-XS, SoRA) are listed in {@code delora-core}'s. A method in
 * another jar (or in test sources) registers itself the same way. Thread-safe.
 */
public final class AdapterMethods {

    private AdapterMethods() {}

    /** Loaded on first use; the JVM's class initialisation makes this thread-safe. */
    private static final class Holder {
        static final List<AdapterMethod> ALL = load();
    }

    private static List<AdapterMethod> load() {
        List<AdapterMethod> out = new ArrayList<>();
        Map<String, String> names = new LinkedHashMap<>();
        for (AdapterMethod m : ServiceLoader.load(AdapterMethod.class, AdapterMethods.class.getClassLoader())) {
            String owner = m.getClass().getName();
            claim(names, m.name(), owner, "name");
            for (AdapterMethod other : out) {
                if (other.configType().isAssignableFrom(m.configType())
                        || m.configType().isAssignableFrom(other.configType())) {
                    throw new IllegalStateException("Adapter methods "
                            + other.getClass().getName() + " and " + owner + " both claim config type "
                            + m.configType().getName());
                }
            }
            out.add(m);
        }
        return Collections.unmodifiableList(out);
    }

    private static void claim(Map<String, String> claimed, String key, String owner, String what) {
        String previous = claimed.putIfAbsent(key, owner);
        if (previous != null) {
            throw new IllegalStateException(
                    "Adapter methods " + previous + " and " + owner + " both claim " + what + " '" + key + "'");
        }
    }

    /**
     * Returns every registered method, in class-path order (built-ins first).
     *
     * @return the methods
     */
    public static List<AdapterMethod> all() {
        return Holder.ALL;
    }

    /**
     * Returns the names of the registered methods, sorted.
     *
     * @return e.g. {@code [delora, dora, lora, loraxs, sora]}
     */
    public static List<String> names() {
        TreeSet<String> out = new TreeSet<>();
        all().forEach(m -> out.add(m.name()));
        return List.copyOf(out);
    }

    /**
     * Finds a method by name, ignoring case, {@code -} and {@code _} ({@code LoRA-XS} finds {@code loraxs}).
     *
     * @param name the name
     * @return the method
     * @throws IllegalArgumentException naming the known methods
     */
    public static AdapterMethod byName(String name) {
        String key = normalise(name);
        for (AdapterMethod m : all()) {
            if (normalise(m.name()).equals(key)) {
                return m;
            }
        }
        throw new IllegalArgumentException(
                "Unknown adapter method '" + FieldValues.cut(name, 80) + "'; expected one of " + names());
    }

    /**
     * Finds the method that reads a file: the one of its {@code peft_type} that {@linkplain AdapterMethod#accepts
     * accepts} its fields (LoRA and DoRA share {@code LORA}; {@code use_dora} tells them apart).
     *
     * @param peftType the type, e.g. {@code LORA}
     * @param fields the file's fields
     * @return the method
     * @throws IllegalArgumentException naming the supported types, or the methods that both accept the fields
     */
    public static AdapterMethod byPeftType(String peftType, ConfigFields fields) {
        List<AdapterMethod> candidates =
                all().stream().filter(m -> m.peftTypes().contains(peftType)).toList();
        if (candidates.isEmpty()) {
            TreeSet<String> known = new TreeSet<>();
            all().forEach(m -> known.addAll(m.peftTypes()));
            throw new IllegalArgumentException(
                    "peft_type '" + FieldValues.cut(peftType, 80) + "' is not supported; supported: " + known);
        }
        List<AdapterMethod> accepting =
                candidates.stream().filter(m -> m.accepts(fields)).toList();
        if (accepting.size() != 1) {
            throw new IllegalArgumentException("peft_type '" + peftType + "': "
                    + (accepting.isEmpty()
                            ? "none"
                            : accepting.stream().map(AdapterMethod::name).toList())
                    + " of the methods "
                    + candidates.stream().map(AdapterMethod::name).toList()
                    + " accept these fields; expected exactly one");
        }
        return accepting.get(0);
    }

    /**
     * Returns the method of a config.
     *
     * @param config a config
     * @return its method
     * @throws IllegalArgumentException if no registered method owns the config's type
     */
    public static AdapterMethod of(AdapterConfig config) {
        for (AdapterMethod m : all()) {
            if (m.configType().isInstance(config)) {
                return m;
            }
        }
        throw new IllegalArgumentException(
                "No registered adapter method for " + config.getClass().getName()
                        + "; register its AdapterMethod in META-INF/services/" + AdapterMethod.class.getName());
    }

    private static String normalise(String name) {
        return name == null
                ? ""
                : name.trim().toLowerCase(Locale.ROOT).replace("-", "").replace("_", "");
    }
}
