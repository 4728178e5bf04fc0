package dev.delora.djl.hf.chat;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** jinja2's builtin filters that chat templates use, plus transformers' {@code tojson}. */
final class Filters {

    static final Set<String> NAMES = Set.of(
            "abs",
            "capitalize",
            "count",
            "d",
            "default",
            "e",
            "escape",
            "first",
            "float",
            "indent",
            "int",
            "items",
            "join",
            "last",
            "length",
            "list",
            "lower",
            "map",
            "max",
            "min",
            "reject",
            "rejectattr",
            "replace",
            "reverse",
            "round",
            "safe",
            "select",
            "selectattr",
            "sort",
            "string",
            "sum",
            "title",
            "tojson",
            "trim",
            "unique",
            "upper",
            "wordcount");

    private static final Pattern TITLE_SPLIT = Pattern.compile("([-\\s({\\[<]+)", Pattern.UNICODE_CHARACTER_CLASS);
    private static final Pattern WORD = Pattern.compile("\\w+", Pattern.UNICODE_CHARACTER_CLASS);

    private Filters() {}

    /** Reads positional-or-keyword parameters in order, with defaults (jinja2's filter signatures). */
    private static Object[] params(
            String filter, List<Object> args, Map<String, Object> kw, String[] names, Object... defaults) {
        if (args.size() > names.length) {
            throw PyError.type(filter + "() takes at most " + names.length + " arguments (" + args.size() + " given)");
        }
        Object[] out = Arrays.copyOf(defaults, names.length);
        for (int i = 0; i < args.size(); i++) {
            out[i] = args.get(i);
        }
        for (Map.Entry<String, Object> e : kw.entrySet()) {
            int at = Arrays.asList(names).indexOf(e.getKey());
            if (at < 0) {
                throw PyError.type(filter + "() got an unexpected keyword argument '" + e.getKey() + "'");
            }
            out[at] = e.getValue();
        }
        return out;
    }

    private static String[] n(String... names) {
        return names;
    }

    private static PyIter gen(List<Object> items) {
        return new PyIter("generator", items.iterator());
    }

    static Object apply(String name, Object v, List<Object> args, Map<String, Object> kw, Scope s) {
        Object[] p;
        switch (name) {
            case "default":
            case "d":
                p = params(name, args, kw, n("default_value", "boolean"), "", false);
                return v instanceof Undefined || (Py.truthy(p[1]) && !Py.truthy(v)) ? p[0] : v;
            case "trim":
                p = params(name, args, kw, n("chars"), (Object) null);
                return Strings.strip(Py.str(v), p[0] == null ? null : Py.str(p[0]), true, true);
            case "length":
            case "count":
                return Py.len(v);
            case "string":
            case "safe":
                return name.equals("safe") ? v : Py.str(v);
            case "upper":
                return Py.str(v).toUpperCase(Locale.ROOT);
            case "lower":
                return Py.str(v).toLowerCase(Locale.ROOT);
            case "capitalize":
                return Strings.capitalize(Py.str(v));
            case "title":
                return title(Py.str(v));
            case "e":
            case "escape":
                return Py.str(v)
                        .replace("&", "&amp;")
                        .replace(">", "&gt;")
                        .replace("<", "&lt;")
                        .replace("'", "&#39;")
                        .replace("\"", "&#34;");
            case "tojson":
                p = params(
                        name,
                        args,
                        kw,
                        n("ensure_ascii", "indent", "separators", "sort_keys"),
                        false,
                        null,
                        null,
                        false);
                return new Json(Py.truthy(p[0]), p[1], p[2], Py.truthy(p[3])).dumps(v);
            case "int":
                p = params(name, args, kw, n("default", "base"), 0L, 10L);
                return toInt(v, p[0], (int) Py.asLong(p[1]));
            case "float":
                p = params(name, args, kw, n("default"), 0.0);
                return toFloat(v, p[0]);
            case "join":
                p = params(name, args, kw, n("d", "attribute"), "", null);
                List<String> parts = new ArrayList<>();
                for (Object x : Py.iter(v)) {
                    parts.add(Py.str(p[1] == null ? x : Sequences.attr(x, p[1])));
                }
                return String.join(Py.str(p[0]), parts);
            case "first":
                Iterator<Object> it = Py.iter(v).iterator();
                return it.hasNext() ? it.next() : Undefined.hint("No first item, sequence was empty.");
            case "last":
                if (v instanceof PyIter i) {
                    throw PyError.type("'" + i.typeName() + "' object is not reversible");
                }
                List<Object> all = Py.list(v);
                return all.isEmpty() ? Undefined.hint("No last item, sequence was empty.") : all.get(all.size() - 1);
            case "list":
                return Py.list(v);
            case "items":
                if (v instanceof Undefined) {
                    return gen(List.of());
                }
                if (!(v instanceof Map<?, ?> map)) {
                    throw PyError.type("Can only get item pairs from a mapping.");
                }
                List<Object> pairs = new ArrayList<>();
                map.forEach((k, x) -> pairs.add(new PyTuple(Arrays.asList(k, x))));
                return gen(pairs);
            case "replace":
                p = params(name, args, kw, n("old", "new", "count"), null, null, null);
                return Strings.replace(Py.str(v), Py.str(p[0]), Py.str(p[1]), p[2] == null ? -1 : Py.asLong(p[2]));
            case "reverse":
                if (v instanceof String str) {
                    return new StringBuilder(str).reverse().toString();
                }
                List<Object> rev = Py.list(v);
                Collections.reverse(rev);
                return v instanceof PyIter
                        ? rev
                        : new PyIter(
                                v instanceof Map ? "dict_reversekeyiterator" : "list_reverseiterator", rev.iterator());
            case "wordcount":
                Matcher m = WORD.matcher(Py.str(v));
                long words = 0;
                while (m.find()) {
                    words++;
                }
                return words;
            case "abs":
                return v instanceof Double d ? (Object) Math.abs(d) : (Object) Math.abs(Py.asLong(v));
            case "round":
                p = params(name, args, kw, n("precision", "method"), 0L, "common");
                RoundingMode mode = switch (Py.str(p[1])) {
                    case "common" -> RoundingMode.HALF_EVEN;
                    case "ceil" -> RoundingMode.CEILING;
                    case "floor" -> RoundingMode.FLOOR;
                    default -> throw new PyError("FilterArgumentError", "method must be common, ceil or floor");
                };
                return new BigDecimal(Py.asDouble(v))
                        .setScale((int) Py.asLong(p[0]), mode)
                        .doubleValue();
            case "indent":
                p = params(name, args, kw, n("width", "first", "blank"), 4L, false, false);
                return indent(
                        Py.str(v),
                        p[0] instanceof String w ? w : " ".repeat((int) Py.asLong(p[0])),
                        Py.truthy(p[1]),
                        Py.truthy(p[2]));
            default:
                return Sequences.apply(name, v, args, kw, s);
        }
    }

    /** jinja2 3.1's {@code indent}: every line but the first (and blank lines unless {@code blank}). */
    private static String indent(String s, String indention, boolean first, boolean blank) {
        List<Object> lines = Strings.splitlines(s + "\n", false);
        StringBuilder rv = new StringBuilder();
        if (blank) {
            for (int i = 0; i < lines.size(); i++) {
                rv.append(i > 0 ? "\n" + indention : "").append((String) lines.get(i));
            }
        } else {
            rv.append((String) lines.get(0));
            for (int i = 1; i < lines.size(); i++) {
                String line = (String) lines.get(i);
                rv.append('\n').append(line.isEmpty() ? "" : indention + line);
            }
        }
        return first ? indention + rv : rv.toString();
    }

    private static String title(String s) {
        StringBuilder b = new StringBuilder();
        Matcher m = TITLE_SPLIT.matcher(s);
        int last = 0;
        List<String> parts = new ArrayList<>();
        while (m.find()) {
            parts.add(s.substring(last, m.start()));
            parts.add(m.group());
            last = m.end();
        }
        parts.add(s.substring(last));
        for (String item : parts) {
            if (!item.isEmpty()) {
                int first = item.codePointAt(0);
                b.appendCodePoint(Character.toUpperCase(first))
                        .append(item.substring(Character.charCount(first)).toLowerCase(Locale.ROOT));
            }
        }
        return b.toString();
    }

    private static Object toInt(Object v, Object dflt, int base) {
        if (v instanceof Long || v instanceof Boolean) {
            return Py.asLong(v);
        } else if (v instanceof Double d) {
            return d.isNaN() || d.isInfinite() ? dflt : (long) d.doubleValue();
        } else if (v instanceof String s) {
            String t = Strings.strip(s, null, true, true).replace("_", "");
            try {
                return Long.parseLong(t, base);
            } catch (NumberFormatException e) {
                Object f = toFloat(s, null);
                return f instanceof Double d && !d.isNaN() && !d.isInfinite() ? (Object) (long) d.doubleValue() : dflt;
            }
        }
        return dflt;
    }

    private static Object toFloat(Object v, Object dflt) {
        if (Py.isNumber(v)) {
            return Py.asDouble(v);
        } else if (v instanceof String s) {
            String t = Strings.strip(s, null, true, true).toLowerCase(Locale.ROOT);
            if (t.matches("[+-]?(inf|infinity|nan)")) {
                return t.contains("n") && !t.contains("i")
                        ? Double.NaN
                        : t.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
            } else if (t.matches("[+-]?(\\d[\\d_]*\\.?[\\d_]*|\\.\\d[\\d_]*)(e[+-]?\\d+)?")) {
                return Double.parseDouble(t.replace("_", ""));
            }
        }
        return dflt;
    }
}
