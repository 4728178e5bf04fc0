package dev.delora.djl.hf.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Python's {@code json.dumps(x, ensure_ascii, indent, separators, sort_keys)}, as transformers' {@code tojson}. */
final class Json {

    private final boolean ensureAscii;
    private final String indent;
    private final String itemSep;
    private final String keySep;
    private final boolean sortKeys;

    Json(boolean ensureAscii, Object indent, Object separators, boolean sortKeys) {
        this.ensureAscii = ensureAscii;
        if (indent == null) {
            this.indent = null;
        } else if (indent instanceof String s) {
            this.indent = s;
        } else if (indent instanceof Long || indent instanceof Boolean) {
            this.indent = " ".repeat((int) Math.max(0, Py.asLong(indent)));
        } else {
            throw PyError.type("indent must be an int or a str, not " + Py.typeName(indent));
        }
        if (separators == null) {
            this.itemSep = indent == null ? ", " : ",";
            this.keySep = ": ";
        } else {
            List<Object> seps = Py.list(separators);
            if (seps.size() != 2 || !(seps.get(0) instanceof String) || !(seps.get(1) instanceof String)) {
                throw PyError.value("separators must be a pair of strings");
            }
            this.itemSep = (String) seps.get(0);
            this.keySep = (String) seps.get(1);
        }
        this.sortKeys = sortKeys;
    }

    String dumps(Object v) {
        StringBuilder b = new StringBuilder();
        write(b, v, 0);
        return b.toString();
    }

    private void newline(StringBuilder b, int level) {
        if (indent != null) {
            b.append('\n').append(indent.repeat(level));
        }
    }

    private void write(StringBuilder b, Object v, int level) {
        if (v == null) {
            b.append("null");
        } else if (v instanceof Boolean x) {
            b.append(x ? "true" : "false");
        } else if (v instanceof Long) {
            b.append(v);
        } else if (v instanceof Double d) {
            b.append(d.isNaN() ? "NaN" : d.isInfinite() ? (d > 0 ? "Infinity" : "-Infinity") : Py.floatRepr(d));
        } else if (v instanceof String s) {
            string(b, s);
        } else if (v instanceof List || v instanceof PyTuple) {
            List<?> items = v instanceof PyTuple t ? t.items() : (List<?>) v;
            if (items.isEmpty()) {
                b.append("[]");
                return;
            }
            b.append('[');
            for (int i = 0; i < items.size(); i++) {
                b.append(i > 0 ? itemSep : "");
                newline(b, level + 1);
                write(b, items.get(i), level + 1);
            }
            newline(b, level);
            b.append(']');
        } else if (v instanceof Map<?, ?> m) {
            object(b, m, level);
        } else {
            throw PyError.type("Object of type " + Py.typeName(v) + " is not JSON serializable");
        }
    }

    private void object(StringBuilder b, Map<?, ?> m, int level) {
        if (m.isEmpty()) {
            b.append("{}");
            return;
        }
        List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
        if (sortKeys) {
            entries.sort((x, y) -> {
                if (!(x.getKey() instanceof String a) || !(y.getKey() instanceof String c)) {
                    throw PyError.type("'<' not supported between instances of '" + Py.typeName(x.getKey()) + "' and '"
                            + Py.typeName(y.getKey()) + "'");
                }
                return Strings.compareCodePoints(a, c);
            });
        }
        b.append('{');
        for (int i = 0; i < entries.size(); i++) {
            b.append(i > 0 ? itemSep : "");
            newline(b, level + 1);
            Object k = entries.get(i).getKey();
            String key;
            if (k instanceof String s) {
                key = s;
            } else if (k == null || k instanceof Boolean || k instanceof Long) {
                key = k == null ? "null" : k instanceof Boolean x ? (x ? "true" : "false") : k.toString();
            } else if (k instanceof Double d) {
                key = d.isNaN() ? "NaN" : d.isInfinite() ? (d > 0 ? "Infinity" : "-Infinity") : Py.floatRepr(d);
            } else {
                throw PyError.type("keys must be str, int, float, bool or None, not " + Py.typeName(k));
            }
            string(b, key);
            b.append(keySep);
            write(b, entries.get(i).getValue(), level + 1);
        }
        newline(b, level);
        b.append('}');
    }

    private void string(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20 || (ensureAscii && c > 0x7e)) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }
}
