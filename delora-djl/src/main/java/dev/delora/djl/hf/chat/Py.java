package dev.delora.djl.hf.chat;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Python value semantics for the interpreter: {@code None} is {@code null}, ints are {@link Long}, floats
 * {@link Double}, lists {@link List}, dicts {@link Map}, tuples {@link PyTuple}.
 */
final class Py {

    /** The characters {@code str.isspace()} (and {@code \s} of Python's re) accept. */
    static final String WHITESPACE = " \t\n\u000b\f\r\u001c\u001d\u001e\u001f\u0085\u00a0\u1680"
            + "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000";

    private Py() {}

    static boolean isSpace(char c) {
        return WHITESPACE.indexOf(c) >= 0;
    }

    /** Converts a caller's Java value (records, arrays, boxed numbers) to the interpreter's representation. */
    static Object fromJava(Object v) {
        if (v == null || v instanceof String || v instanceof Boolean || v instanceof Long || v instanceof Double) {
            return v;
        } else if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        } else if (v instanceof BigInteger b) {
            return b.longValueExact();
        } else if (v instanceof Number n) {
            return n.doubleValue();
        } else if (v instanceof Character c) {
            return c.toString();
        } else if (v instanceof ChatMessage m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            out.put("role", m.role());
            out.put("content", m.content());
            return out;
        } else if (v instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put(fromJava(k), fromJava(x)));
            return out;
        } else if (v instanceof Iterable<?> it) {
            List<Object> out = new ArrayList<>();
            it.forEach(x -> out.add(fromJava(x)));
            return out;
        } else if (v instanceof Object[] a) {
            return fromJava(List.of(a));
        }
        throw new IllegalArgumentException("Unsupported chat template value of type "
                + v.getClass().getName() + " (use String, Number, Boolean, null, List or Map)");
    }

    static boolean truthy(Object v) {
        if (v == null || v instanceof Undefined) {
            return false;
        } else if (v instanceof Boolean b) {
            return b;
        } else if (v instanceof Long l) {
            return l != 0;
        } else if (v instanceof Double d) {
            return d != 0.0;
        } else if (v instanceof String s) {
            return !s.isEmpty();
        } else if (v instanceof List<?> l) {
            return !l.isEmpty();
        } else if (v instanceof Map<?, ?> m) {
            return !m.isEmpty();
        } else if (v instanceof PyTuple t) {
            return !t.items().isEmpty();
        }
        return true;
    }

    /** Python's {@code type(v).__name__}. */
    static String typeName(Object v) {
        if (v == null) {
            return "NoneType";
        } else if (v instanceof Boolean) {
            return "bool";
        } else if (v instanceof Long) {
            return "int";
        } else if (v instanceof Double) {
            return "float";
        } else if (v instanceof String) {
            return "str";
        } else if (v instanceof PyRange) {
            return "range";
        } else if (v instanceof List) {
            return "list";
        } else if (v instanceof Map) {
            return "dict";
        } else if (v instanceof PyTuple) {
            return "tuple";
        } else if (v instanceof PyIter i) {
            return i.typeName();
        } else if (v instanceof Undefined) {
            return "Undefined";
        } else if (v instanceof Namespace) {
            return "Namespace";
        } else if (v instanceof Loop) {
            return "LoopContext";
        } else if (v instanceof Macro) {
            return "Macro";
        }
        return "function";
    }

    /** jinja2's {@code object_type_repr}, used in undefined-attribute messages. */
    static String objectTypeRepr(Object v) {
        if (v == null) {
            return "None";
        } else if (v instanceof Namespace) {
            return "jinja2.utils.Namespace object";
        } else if (v instanceof Loop) {
            return "jinja2.runtime.LoopContext object";
        } else if (v instanceof Macro) {
            return "jinja2.runtime.Macro object";
        } else if (v instanceof Undefined) {
            return "jinja2.runtime.Undefined object";
        }
        return typeName(v) + " object";
    }

    /** Python's {@code str(v)}, as {@code {{ v }}} prints it. */
    static String str(Object v) {
        if (v instanceof String s) {
            return s;
        } else if (v instanceof Undefined) {
            return "";
        }
        return repr(v);
    }

    /** Python's {@code repr(v)}. */
    static String repr(Object v) {
        if (v == null) {
            return "None";
        } else if (v instanceof Boolean b) {
            return b ? "True" : "False";
        } else if (v instanceof Long) {
            return v.toString();
        } else if (v instanceof Double d) {
            return floatRepr(d);
        } else if (v instanceof String s) {
            return strRepr(s);
        } else if (v instanceof PyRange r) {
            return r.repr();
        } else if (v instanceof List<?> l) {
            return join("[", l, "]");
        } else if (v instanceof PyTuple t) {
            return t.items().size() == 1 ? "(" + repr(t.items().get(0)) + ",)" : join("(", t.items(), ")");
        } else if (v instanceof Map<?, ?> m) {
            StringBuilder b = new StringBuilder("{");
            m.forEach((k, x) -> b.append(b.length() > 1 ? ", " : "")
                    .append(repr(k))
                    .append(": ")
                    .append(repr(x)));
            return b.append('}').toString();
        } else if (v instanceof Undefined) {
            return "Undefined";
        } else if (v instanceof Namespace n) {
            return "<Namespace " + repr(n.attrs) + ">";
        } else if (v instanceof Macro m) {
            return "<Macro '" + m.name() + "'>";
        }
        return "<" + typeName(v) + " object>";
    }

    private static String join(String open, List<?> items, String close) {
        StringBuilder b = new StringBuilder(open);
        for (int i = 0; i < items.size(); i++) {
            b.append(i > 0 ? ", " : "").append(repr(items.get(i)));
        }
        return b.append(close).toString();
    }

    private static String strRepr(String s) {
        char q = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        StringBuilder b = new StringBuilder().append(q);
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            if (cp == q || cp == '\\') {
                b.append('\\').appendCodePoint(cp);
            } else if (cp == '\n') {
                b.append("\\n");
            } else if (cp == '\r') {
                b.append("\\r");
            } else if (cp == '\t') {
                b.append("\\t");
            } else if (isPrintable(cp)) {
                b.appendCodePoint(cp);
            } else if (cp < 0x100) {
                b.append(String.format("\\x%02x", cp));
            } else if (cp < 0x10000) {
                b.append(String.format("\\u%04x", cp));
            } else {
                b.append(String.format("\\U%08x", cp));
            }
        }
        return b.append(q).toString();
    }

    private static boolean isPrintable(int cp) {
        if (cp == ' ') {
            return true;
        }
        int t = Character.getType(cp);
        return t != Character.CONTROL
                && t != Character.FORMAT
                && t != Character.SURROGATE
                && t != Character.UNASSIGNED
                && t != Character.PRIVATE_USE
                && t != Character.LINE_SEPARATOR
                && t != Character.PARAGRAPH_SEPARATOR
                && t != Character.SPACE_SEPARATOR;
    }

    /** Python's {@code repr(float)}: the shortest round-trip digits, fixed for 1e-4 <= |x| < 1e16. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) {
            return "nan";
        } else if (Double.isInfinite(d)) {
            return d > 0 ? "inf" : "-inf";
        } else if (d == 0) {
            return 1 / d < 0 ? "-0.0" : "0.0";
        }
        BigDecimal bd = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
        String digits = bd.unscaledValue().toString();
        int exp = digits.length() - 1 - bd.scale();
        StringBuilder b = new StringBuilder(d < 0 ? "-" : "");
        if (exp >= 16 || exp < -4) {
            b.append(digits.charAt(0));
            if (digits.length() > 1) {
                b.append('.').append(digits, 1, digits.length());
            }
            return b.append(exp < 0 ? "e-" : "e+")
                    .append(String.format("%02d", Math.abs(exp)))
                    .toString();
        } else if (exp < 0) {
            return b.append("0.").append("0".repeat(-exp - 1)).append(digits).toString();
        } else if (digits.length() <= exp + 1) {
            return b.append(digits)
                    .append("0".repeat(exp + 1 - digits.length()))
                    .append(".0")
                    .toString();
        }
        return b.append(digits, 0, exp + 1)
                .append('.')
                .append(digits, exp + 1, digits.length())
                .toString();
    }

    /** Iterates a value as Python's {@code iter()} does (a dict yields its keys, a string its characters). */
    static Iterable<Object> iter(Object v) {
        if (v instanceof Undefined) {
            return List.of();
        } else if (v instanceof String s) {
            List<Object> chars = new ArrayList<>();
            s.codePoints().forEach(cp -> chars.add(new String(Character.toChars(cp))));
            return chars;
        } else if (v instanceof List<?> l) {
            return new ArrayList<>(l);
        } else if (v instanceof PyTuple t) {
            return t.items();
        } else if (v instanceof Map<?, ?> m) {
            return new ArrayList<>(m.keySet());
        } else if (v instanceof PyIter i) {
            return i;
        }
        throw PyError.type("'" + typeName(v) + "' object is not iterable");
    }

    static List<Object> list(Object v) {
        List<Object> out = new ArrayList<>();
        for (Iterator<Object> it = iter(v).iterator(); it.hasNext(); ) {
            out.add(it.next());
        }
        return out;
    }

    /** Python's {@code len(v)}. */
    static long len(Object v) {
        if (v instanceof String s) {
            return s.codePointCount(0, s.length());
        } else if (v instanceof List<?> l) {
            return l.size();
        } else if (v instanceof Map<?, ?> m) {
            return m.size();
        } else if (v instanceof PyTuple t) {
            return t.items().size();
        } else if (v instanceof Undefined) {
            return 0;
        } else if (v instanceof Namespace || v instanceof Loop) {
            throw PyError.type("object of type '" + typeName(v) + "' has no len()");
        }
        throw PyError.type("object of type '" + typeName(v) + "' has no len()");
    }

    static boolean isNumber(Object v) {
        return v instanceof Long || v instanceof Double || v instanceof Boolean;
    }

    /** An int or bool as a long. */
    static long asLong(Object v) {
        return v instanceof Boolean b ? (b ? 1 : 0) : (Long) v;
    }

    static double asDouble(Object v) {
        return v instanceof Double d ? d : asLong(v);
    }

    /** Python's {@code a == b}. */
    static boolean eq(Object a, Object b) {
        if (a == null || b == null) {
            return a == b;
        } else if (isNumber(a) && isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                return asDouble(a) == asDouble(b);
            }
            return asLong(a) == asLong(b);
        } else if (a instanceof List<?> x && b instanceof List<?> y) {
            return seqEq(x, y);
        } else if (a instanceof PyTuple x && b instanceof PyTuple y) {
            return seqEq(x.items(), y.items());
        } else if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
            if (x.size() != y.size()) {
                return false;
            }
            for (Map.Entry<?, ?> e : x.entrySet()) {
                Object other = Attrs.dictGet(y, e.getKey(), Attrs.MISSING);
                if (other == Attrs.MISSING || !eq(e.getValue(), other)) {
                    return false;
                }
            }
            return true;
        } else if (a instanceof String || a instanceof Undefined) {
            return a.equals(b);
        }
        return a == b;
    }

    private static boolean seqEq(List<?> x, List<?> y) {
        if (x.size() != y.size()) {
            return false;
        }
        for (int i = 0; i < x.size(); i++) {
            if (!eq(x.get(i), y.get(i))) {
                return false;
            }
        }
        return true;
    }
}
