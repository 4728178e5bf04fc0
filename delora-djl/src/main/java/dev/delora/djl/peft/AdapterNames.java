package dev.delora.djl.peft;

/** The rules for adapter names, shared by the model handle and persistence. */
public final class AdapterNames {

    private AdapterNames() {}

    /**
     * Checks an adapter name: non-empty, at most 100 characters, no {@code .} (PEFT's module-dict keys), no path
     * separator or {@code :} and no control character (it names the sub-folder a non-default adapter is saved in).
     *
     * @param name the name
     * @throws IllegalArgumentException naming what is wrong
     */
    public static void check(String name) {
        if (name == null
                || name.isEmpty()
                || name.length() > 100
                || name.chars()
                        .anyMatch(c -> c == '.' || c == '/' || c == '\\' || c == ':' || Character.isISOControl(c))) {
            String shown = name == null ? "null" : name.length() > 100 ? name.substring(0, 100) + "..." : name;
            throw new IllegalArgumentException("Adapter names must be 1 to 100 characters without '.', '/', '\\', "
                    + "':' or control characters (they name a sub-folder when saved), got '" + shown + "'");
        }
    }

    /**
     * Checks a name for a new adapter: valid ({@link #check}) and not taken.
     *
     * @param name the name
     * @param existing the names in use
     * @throws IllegalArgumentException naming what is wrong
     */
    public static void checkNew(String name, java.util.Set<String> existing) {
        check(name);
        if (existing.contains(name)) {
            throw new IllegalArgumentException("An adapter named '" + name + "' already exists; adapters: " + existing);
        }
    }
}
