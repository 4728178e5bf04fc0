package dev.delora.djl.hf.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** The Python methods of {@code str}, {@code dict} and {@code list} a template may call. */
final class Methods {

    static final Set<String> STR = Set.of(
            "strip",
            "lstrip",
            "rstrip",
            "split",
            "rsplit",
            "splitlines",
            "startswith",
            "endswith",
            "upper",
            "lower",
            "title",
            "capitalize",
            "replace",
            "count",
            "find",
            "rfind",
            "index",
            "join",
            "isdigit",
            "isalpha",
            "isalnum",
            "isspace",
            "isupper",
            "islower",
            "removeprefix",
            "removesuffix");
    static final Set<String> DICT = Set.of("items", "keys", "values", "get", "copy");
    static final Set<String> LIST = Set.of("index", "count");

    private Methods() {}

    private static void arity(String name, List<Object> args, int min, int max) {
        if (args.size() < min || args.size() > max) {
            throw PyError.type(name + "() takes " + (min == max ? "exactly " + min : "at most " + max) + " argument"
                    + (max == 1 ? "" : "s") + " (" + args.size() + " given)");
        }
    }

    private static String strArg(String name, List<Object> args, int i) {
        Object v = args.get(i);
        if (v instanceof String s) {
            return s;
        } else if (v instanceof Undefined u) {
            throw u.fail();
        }
        throw PyError.type(name + "() argument " + (i + 1) + " must be str, not " + Py.typeName(v));
    }

    private static String optChars(String name, List<Object> args) {
        arity(name, args, 0, 1);
        return args.isEmpty() || args.get(0) == null ? null : strArg(name, args, 0);
    }

    private static long intArg(List<Object> args, int i, long dflt) {
        if (args.size() <= i) {
            return dflt;
        } else if (args.get(i) instanceof Long || args.get(i) instanceof Boolean) {
            return Py.asLong(args.get(i));
        }
        throw PyError.type("'" + Py.typeName(args.get(i)) + "' object cannot be interpreted as an integer");
    }

    private static boolean all(String s, java.util.function.IntPredicate p) {
        return !s.isEmpty() && s.codePoints().allMatch(p);
    }

    static Object str(String s, String name, List<Object> args) {
        switch (name) {
            case "strip":
                return Strings.strip(s, optChars(name, args), true, true);
            case "lstrip":
                return Strings.strip(s, optChars(name, args), true, false);
            case "rstrip":
                return Strings.strip(s, optChars(name, args), false, true);
            case "split":
            case "rsplit":
                arity(name, args, 0, 2);
                String sep = args.isEmpty() || args.get(0) == null ? null : strArg(name, args, 0);
                long max = intArg(args, 1, -1);
                return name.equals("split") ? Strings.split(s, sep, max) : Strings.rsplit(s, sep, max);
            case "splitlines":
                arity(name, args, 0, 1);
                return Strings.splitlines(s, !args.isEmpty() && Py.truthy(args.get(0)));
            case "startswith":
            case "endswith":
                arity(name, args, 1, 1);
                return Strings.affix(s, args.get(0), name.equals("startswith"), name);
            case "upper":
                arity(name, args, 0, 0);
                return s.toUpperCase(Locale.ROOT);
            case "lower":
                arity(name, args, 0, 0);
                return s.toLowerCase(Locale.ROOT);
            case "title":
                arity(name, args, 0, 0);
                return Strings.title(s);
            case "capitalize":
                arity(name, args, 0, 0);
                return Strings.capitalize(s);
            case "replace":
                arity(name, args, 2, 3);
                return Strings.replace(s, strArg(name, args, 0), strArg(name, args, 1), intArg(args, 2, -1));
            case "count":
                arity(name, args, 1, 1);
                return Strings.count(s, strArg(name, args, 0));
            case "find":
            case "rfind":
                arity(name, args, 1, 1);
                return Strings.find(s, strArg(name, args, 0), name.equals("rfind"));
            case "index":
                arity(name, args, 1, 1);
                long at = Strings.find(s, strArg(name, args, 0), false);
                if (at < 0) {
                    throw PyError.value("substring not found");
                }
                return at;
            case "join":
                arity(name, args, 1, 1);
                return Strings.join(s, args.get(0));
            case "isdigit":
                return all(s, Character::isDigit);
            case "isalpha":
                return all(s, Character::isLetter);
            case "isalnum":
                return all(s, Character::isLetterOrDigit);
            case "isspace":
                return !s.isEmpty() && s.chars().allMatch(c -> Py.isSpace((char) c));
            case "isupper":
                return !s.equals(s.toLowerCase(Locale.ROOT)) && s.equals(s.toUpperCase(Locale.ROOT));
            case "islower":
                return !s.equals(s.toUpperCase(Locale.ROOT)) && s.equals(s.toLowerCase(Locale.ROOT));
            case "removeprefix":
                arity(name, args, 1, 1);
                String p = strArg(name, args, 0);
                return s.startsWith(p) ? s.substring(p.length()) : s;
            case "removesuffix":
                arity(name, args, 1, 1);
                String x = strArg(name, args, 0);
                return s.endsWith(x) && !x.isEmpty() ? s.substring(0, s.length() - x.length()) : s;
            default:
                throw new IllegalStateException(name);
        }
    }

    static Object dict(Map<?, ?> m, String name, List<Object> args) {
        switch (name) {
            case "items":
                arity(name, args, 0, 0);
                List<Object> items = new ArrayList<>();
                m.forEach((k, v) -> items.add(new PyTuple(java.util.Arrays.asList(k, v))));
                return items;
            case "keys":
                arity(name, args, 0, 0);
                return new ArrayList<Object>(m.keySet());
            case "values":
                arity(name, args, 0, 0);
                return new ArrayList<Object>(m.values());
            case "get":
                arity(name, args, 1, 2);
                return Attrs.dictGet(m, args.get(0), args.size() > 1 ? args.get(1) : null);
            case "copy":
                arity(name, args, 0, 0);
                return new java.util.LinkedHashMap<Object, Object>(m);
            default:
                throw new IllegalStateException(name);
        }
    }

    static Object list(List<?> l, String name, List<Object> args) {
        arity(name, args, 1, 1);
        long n = 0;
        for (int i = 0; i < l.size(); i++) {
            if (Py.eq(l.get(i), args.get(0))) {
                if (name.equals("index")) {
                    return (long) i;
                }
                n++;
            }
        }
        if (name.equals("index")) {
            throw PyError.value(Py.repr(args.get(0)) + " is not in list");
        }
        return n;
    }
}
