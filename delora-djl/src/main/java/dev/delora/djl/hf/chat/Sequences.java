package dev.delora.djl.hf.chat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Predicate;

/** jinja2's filters over sequences: {@code map}, {@code select}, {@code selectattr}, {@code sort}, ... */
final class Sequences {

    private Sequences() {}

    /** jinja2's {@code make_attrgetter}: a dotted path of items ({@code "a.0.b"}). */
    static Object attr(Object item, Object attribute) {
        if (!(attribute instanceof String path)) {
            return Attrs.getitem(item, attribute);
        }
        Object v = item;
        for (String part : path.split("\\.", -1)) {
            v = Attrs.getitem(v, part.matches("\\d+") ? (Object) Long.parseLong(part) : part);
        }
        return v;
    }

    private static PyIter gen(List<Object> items) {
        return new PyIter("generator", items.iterator());
    }

    private static Object kw(Map<String, Object> kw, String name, Object dflt) {
        return kw.containsKey(name) ? kw.get(name) : dflt;
    }

    private static Predicate<Object> test(String filter, List<Object> args, Map<String, Object> kw, Scope s) {
        if (args.isEmpty()) {
            return Py::truthy;
        }
        String name = Py.str(args.get(0));
        List<Object> rest = args.subList(1, args.size());
        return x -> Tests.apply(name, x, rest, s);
    }

    private static Function<Object, Object> key(Object attribute, boolean caseSensitive) {
        return x -> {
            Object k = attribute == null ? x : attr(x, attribute);
            return !caseSensitive && k instanceof String str ? str.toLowerCase(Locale.ROOT) : k;
        };
    }

    static Object apply(String name, Object v, List<Object> args, Map<String, Object> kw, Scope s) {
        List<Object> out = new ArrayList<>();
        switch (name) {
            case "map":
                if (args.isEmpty() && kw.containsKey("attribute")) {
                    Object attribute = kw.get("attribute");
                    Object dflt = kw.get("default");
                    for (Object x : Py.iter(v)) {
                        Object r = attr(x, attribute);
                        out.add(dflt != null && r instanceof Undefined ? dflt : r);
                    }
                } else if (args.isEmpty()) {
                    throw new PyError("FilterArgumentError", "map requires a filter argument");
                } else {
                    String filter = Py.str(args.get(0));
                    if (!Filters.NAMES.contains(filter)) {
                        throw new PyError("TemplateRuntimeError", "No filter named '" + filter + "'.");
                    }
                    for (Object x : Py.iter(v)) {
                        out.add(Filters.apply(filter, x, args.subList(1, args.size()), kw, s));
                    }
                }
                return gen(out);
            case "select":
            case "reject":
                Predicate<Object> t = test(name, args, kw, s);
                for (Object x : Py.iter(v)) {
                    if (t.test(x) == name.equals("select")) {
                        out.add(x);
                    }
                }
                return gen(out);
            case "selectattr":
            case "rejectattr":
                if (args.isEmpty()) {
                    throw PyError.type("Missing parameter for attribute name");
                }
                Predicate<Object> ta = test(name, args.subList(1, args.size()), kw, s);
                for (Object x : Py.iter(v)) {
                    if (ta.test(attr(x, args.get(0))) == name.equals("selectattr")) {
                        out.add(x);
                    }
                }
                return gen(out);
            case "unique":
                Function<Object, Object> uk =
                        key(kw(kw, "attribute", at(args, 1)), Py.truthy(kw(kw, "case_sensitive", at(args, 0))));
                List<Object> seen = new ArrayList<>();
                for (Object x : Py.iter(v)) {
                    Object k = uk.apply(x);
                    if (seen.stream().noneMatch(y -> Py.eq(y, k))) {
                        seen.add(k);
                        out.add(x);
                    }
                }
                return gen(out);
            case "sort":
                Function<Object, Object> sk =
                        key(kw(kw, "attribute", at(args, 2)), Py.truthy(kw(kw, "case_sensitive", at(args, 1))));
                Comparator<Object> cmp = (a, b) -> order(sk.apply(a), sk.apply(b));
                out.addAll(Py.list(v));
                out.sort(Py.truthy(kw(kw, "reverse", at(args, 0))) ? cmp.reversed() : cmp);
                return out;
            case "sum":
                Object attribute = kw(kw, "attribute", at(args, 0));
                Object total = kw(kw, "start", args.size() > 1 ? args.get(1) : 0L);
                for (Object x : Py.iter(v)) {
                    total = PyOps.binary("+", total, attribute == null ? x : attr(x, attribute));
                }
                return total;
            case "min":
            case "max":
                Function<Object, Object> mk =
                        key(kw(kw, "attribute", at(args, 1)), Py.truthy(kw(kw, "case_sensitive", at(args, 0))));
                Object best = Attrs.MISSING;
                for (Object x : Py.iter(v)) {
                    int c = best == Attrs.MISSING ? 0 : order(mk.apply(x), mk.apply(best));
                    if (best == Attrs.MISSING || (name.equals("min") ? c < 0 : c > 0)) {
                        best = x;
                    }
                }
                return best == Attrs.MISSING ? Undefined.hint("No aggregated item, sequence was empty.") : best;
            default:
                throw new PyError("TemplateRuntimeError", "No filter named '" + name + "'.");
        }
    }

    private static Object at(List<Object> args, int i) {
        return i < args.size() ? args.get(i) : null;
    }

    private static int order(Object a, Object b) {
        return PyOps.compare("<", a, b) ? -1 : PyOps.compare("<", b, a) ? 1 : 0;
    }
}
