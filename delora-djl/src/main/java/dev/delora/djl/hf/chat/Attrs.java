package dev.delora.djl.hf.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** jinja2's sandboxed {@code getattr} ({@code a.b}) and {@code getitem} ({@code a[b]}), and slices. */
final class Attrs {

    /** A marker for "no such key". */
    static final Object MISSING = new Object();

    private static final Set<String> UNSAFE_LIST =
            Set.of("append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear");
    private static final Set<String> UNSAFE_DICT = Set.of("clear", "pop", "popitem", "setdefault", "update");

    private Attrs() {}

    /** Looks a key up with Python's equality (so {@code 1}, {@code 1.0} and {@code True} are one key). */
    static Object dictGet(Map<?, ?> m, Object key, Object dflt) {
        if (key instanceof String || key == null) {
            return m.containsKey(key) ? m.get(key) : dflt;
        }
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (Py.eq(e.getKey(), key)) {
                return e.getValue();
            }
        }
        return dflt;
    }

    /** {@code obj.name}: the attribute (a method, a loop or namespace field) first, then the item. */
    static Object getattr(Object obj, String name) {
        if (obj instanceof Undefined u) {
            throw u.fail();
        }
        Object attr = attribute(obj, name);
        if (attr != MISSING) {
            return attr;
        }
        Object item = item(obj, name);
        return item != MISSING ? item : Undefined.missing(obj, name);
    }

    /** {@code obj[key]}: the item first, then (for a string key) the attribute. */
    static Object getitem(Object obj, Object key) {
        if (obj instanceof Undefined u) {
            throw u.fail();
        }
        Object item = item(obj, key);
        if (item != MISSING) {
            return item;
        }
        if (key instanceof String name) {
            Object attr = attribute(obj, name);
            if (attr != MISSING) {
                return attr;
            }
        }
        return Undefined.missing(obj, key);
    }

    private static Object item(Object obj, Object key) {
        if (obj instanceof Map<?, ?> m) {
            return dictGet(m, key, MISSING);
        }
        List<?> seq = obj instanceof PyTuple t ? t.items() : obj instanceof List<?> l ? l : null;
        if (seq == null && obj instanceof String s) {
            seq = Py.list(s);
        }
        if (seq != null && (key instanceof Long || key instanceof Boolean)) {
            long i = Py.asLong(key);
            long n = seq.size();
            i = i < 0 ? i + n : i;
            return i >= 0 && i < n ? seq.get((int) i) : MISSING;
        }
        if (seq != null && key instanceof PySlice sl) {
            return sl.apply(obj, seq);
        }
        return MISSING;
    }

    private static Object attribute(Object obj, String name) {
        if (obj instanceof Namespace ns) {
            return ns.attrs.containsKey(name) ? ns.attrs.get(name) : MISSING;
        } else if (obj instanceof Loop loop) {
            return loop.attribute(name);
        } else if (obj instanceof String s) {
            return Methods.STR.contains(name) ? method(name, args -> Methods.str(s, name, args)) : MISSING;
        } else if (obj instanceof Map<?, ?> m) {
            if (UNSAFE_DICT.contains(name)) {
                return Undefined.unsafe(name, obj);
            }
            return Methods.DICT.contains(name) ? method(name, args -> Methods.dict(m, name, args)) : MISSING;
        } else if (obj instanceof List<?> l && !(obj instanceof PyRange)) {
            if (UNSAFE_LIST.contains(name)) {
                return Undefined.unsafe(name, obj);
            }
            return Methods.LIST.contains(name) ? method(name, args -> Methods.list(l, name, args)) : MISSING;
        } else if (obj instanceof PyTuple t) {
            return Methods.LIST.contains(name) ? method(name, args -> Methods.list(t.items(), name, args)) : MISSING;
        }
        return MISSING;
    }

    private interface Positional {
        Object call(List<Object> args);
    }

    private static PyCallable method(String name, Positional body) {
        return (args, kwargs) -> {
            if (!kwargs.isEmpty()) {
                throw PyError.type(name + "() takes no keyword arguments");
            }
            return body.call(args);
        };
    }

    /**
     * A slice {@code [start:stop:step]} (bounds may be {@code null}).
     *
     * @param start first index or null
     * @param stop end index or null
     * @param step stride or null
     */
    record PySlice(Object start, Object stop, Object step) {

        Object apply(Object obj, List<?> seq) {
            long n = seq.size();
            long st = step == null ? 1 : index(step);
            if (st == 0) {
                throw PyError.value("slice step cannot be zero");
            }
            long lo = st > 0 ? bound(start, n, 0, n) : bound(start, n, n - 1, n - 1);
            long hi = st > 0 ? bound(stop, n, n, n) : bound(stop, n, -1, n - 1);
            List<Object> out = new ArrayList<>();
            for (long i = lo; st > 0 ? i < hi : i > hi; i += st) {
                out.add(seq.get((int) i));
            }
            if (obj instanceof String) {
                StringBuilder b = new StringBuilder();
                out.forEach(c -> b.append((String) c));
                return b.toString();
            }
            return obj instanceof PyTuple ? new PyTuple(out) : out;
        }

        private static long index(Object v) {
            if (v instanceof Long || v instanceof Boolean) {
                return Py.asLong(v);
            }
            throw PyError.type("slice indices must be integers or None or have an __index__ method");
        }

        private static long bound(Object v, long n, long dflt, long max) {
            if (v == null) {
                return dflt;
            }
            long i = index(v);
            if (i < 0) {
                i += n;
                return Math.max(i, max == n - 1 ? -1 : 0);
            }
            return Math.min(i, max);
        }
    }
}
