package dev.delora.core.target;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * PEFT's two ways of naming modules: one string is a regular expression that must match the whole module path
 * ({@code re.fullmatch}); a list matches a path that equals an entry or ends with {@code "." + entry}.
 *
 * @param regex the full-match expression, or {@code null} when {@code names} is used
 * @param names the module names or dot-aligned suffixes, or {@code null} when {@code regex} is used
 */
public record ModuleMatcher(String regex, List<String> names) {

    /** The special PEFT value that selects every {@code Linear} outside {@code modules_to_save}. */
    public static final String ALL_LINEAR = "all-linear";

    /** Validates that exactly one form is given and that the expression compiles. */
    public ModuleMatcher {
        if ((regex == null) == (names == null)) {
            throw new IllegalArgumentException("A module matcher takes either a regex or a list of names, not both");
        }
        if (regex != null) {
            try {
                Pattern.compile(regex);
            } catch (PatternSyntaxException e) {
                throw new IllegalArgumentException("Invalid module regex '" + regex + "': " + e.getDescription(), e);
            }
        } else {
            names = List.copyOf(names);
            for (String n : names) {
                if (n == null || n.isEmpty()) {
                    throw new IllegalArgumentException("Module names must be non-empty, got " + names);
                }
            }
        }
    }

    /**
     * Creates a full-match regex matcher (PEFT: {@code target_modules} given as a string).
     *
     * @param regex the expression
     * @return the matcher
     */
    public static ModuleMatcher regex(String regex) {
        return new ModuleMatcher(Objects.requireNonNull(regex, "regex"), null);
    }

    /**
     * Creates a name/suffix matcher (PEFT: {@code target_modules} given as a list).
     *
     * @param names names or dot-aligned suffixes
     * @return the matcher
     */
    public static ModuleMatcher names(String... names) {
        return new ModuleMatcher(null, List.of(names));
    }

    /**
     * Creates a name/suffix matcher from a list.
     *
     * @param names names or dot-aligned suffixes
     * @return the matcher
     */
    public static ModuleMatcher names(List<String> names) {
        return new ModuleMatcher(null, names);
    }

    /**
     * Tells whether this is PEFT's {@code "all-linear"} shorthand.
     *
     * @return true for {@code "all-linear"}
     */
    public boolean isAllLinear() {
        return ALL_LINEAR.equals(regex);
    }

    /**
     * Tests a module path.
     *
     * @param path the dotted module path
     * @return true if it is named by this matcher
     */
    public boolean matches(String path) {
        if (regex != null) {
            return Pattern.compile(regex).matcher(path).matches();
        }
        return names.contains(path) || names.stream().anyMatch(n -> path.endsWith("." + n));
    }

    /**
     * Tells whether a path is named exactly (list form) rather than by suffix; PEFT skips the layer filter then.
     *
     * @param path the dotted module path
     * @return true if the list contains the path itself
     */
    boolean namesExactly(String path) {
        return names != null && names.contains(path);
    }

    @Override
    public String toString() {
        return regex != null ? '"' + regex + '"' : names.toString();
    }
}
