package dev.delora.djl.hf.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Python's operators ({@code + - * / // % **}, comparisons, {@code in}) with Python's errors. */
final class PyOps {

    private PyOps() {}

    private static void checkDefined(Object a, Object b) {
        if (a instanceof Undefined u) {
            throw u.fail();
        } else if (b instanceof Undefined u) {
            throw u.fail();
        }
    }

    private static PyError unsupported(String op, Object a, Object b) {
        return PyError.type(
                "unsupported operand type(s) for " + op + ": '" + Py.typeName(a) + "' and '" + Py.typeName(b) + "'");
    }

    /** Applies a binary operator. */
    static Object binary(String op, Object a, Object b) {
        if (op.equals("~")) {
            return Py.str(a) + Py.str(b);
        }
        checkDefined(a, b);
        if (Py.isNumber(a) && Py.isNumber(b)) {
            return numeric(op, a, b);
        }
        switch (op) {
            case "+":
                if (a instanceof String x && b instanceof String y) {
                    return x + y;
                } else if (a instanceof List<?> x && b instanceof List<?> y) {
                    List<Object> out = new ArrayList<>(x);
                    out.addAll(y);
                    return out;
                } else if (a instanceof PyTuple x && b instanceof PyTuple y) {
                    List<Object> out = new ArrayList<>(x.items());
                    out.addAll(y.items());
                    return new PyTuple(out);
                } else if (a instanceof String || a instanceof List || a instanceof PyTuple) {
                    String kind = a instanceof String ? "str" : Py.typeName(a);
                    throw PyError.type("can only concatenate " + kind + " (not \"" + Py.typeName(b) + "\") to " + kind);
                }
                throw unsupported("+", a, b);
            case "*":
                if ((a instanceof String || a instanceof List || a instanceof PyTuple) && isInt(b)) {
                    return repeat(a, Py.asLong(b));
                } else if ((b instanceof String || b instanceof List || b instanceof PyTuple) && isInt(a)) {
                    return repeat(b, Py.asLong(a));
                }
                throw PyError.type("can't multiply sequence by non-int of type '" + Py.typeName(b) + "'");
            case "%":
                if (a instanceof String) {
                    throw PyError.type("printf-style '%' formatting of strings is not supported by this interpreter");
                }
                throw unsupported("%", a, b);
            default:
                throw unsupported(op, a, b);
        }
    }

    private static boolean isInt(Object v) {
        return v instanceof Long || v instanceof Boolean;
    }

    private static Object repeat(Object seq, long n) {
        if (seq instanceof String s) {
            return n <= 0 ? "" : s.repeat((int) n);
        }
        List<Object> items = seq instanceof PyTuple t ? t.items() : new ArrayList<>((List<?>) seq);
        List<Object> out = new ArrayList<>();
        for (long i = 0; i < n; i++) {
            out.addAll(items);
        }
        return seq instanceof PyTuple ? new PyTuple(out) : out;
    }

    private static Object numeric(String op, Object a, Object b) {
        if (a instanceof Double || b instanceof Double || op.equals("/")) {
            double x = Py.asDouble(a);
            double y = Py.asDouble(b);
            switch (op) {
                case "+":
                    return x + y;
                case "-":
                    return x - y;
                case "*":
                    return x * y;
                case "/":
                    return divide(x, y, "division by zero");
                case "//":
                    return Math.floor(divide(x, y, "float floor division by zero"));
                case "%":
                    if (y == 0) {
                        throw new PyError("ZeroDivisionError", "float modulo");
                    }
                    double r = x % y;
                    return r != 0 && (r < 0) != (y < 0) ? r + y : r;
                case "**":
                    return Math.pow(x, y);
                default:
                    throw new IllegalStateException(op);
            }
        }
        long x = Py.asLong(a);
        long y = Py.asLong(b);
        switch (op) {
            case "+":
                return Math.addExact(x, y);
            case "-":
                return Math.subtractExact(x, y);
            case "*":
                return Math.multiplyExact(x, y);
            case "//":
                if (y == 0) {
                    throw new PyError("ZeroDivisionError", "integer division or modulo by zero");
                }
                return Math.floorDiv(x, y);
            case "%":
                if (y == 0) {
                    throw new PyError("ZeroDivisionError", "integer modulo by zero");
                }
                return Math.floorMod(x, y);
            case "**":
                if (y < 0) {
                    return Math.pow(x, y);
                }
                long r = 1;
                for (long i = 0; i < y; i++) {
                    r = Math.multiplyExact(r, x);
                }
                return r;
            default:
                throw new IllegalStateException(op);
        }
    }

    private static double divide(double x, double y, String message) {
        if (y == 0) {
            throw new PyError("ZeroDivisionError", message);
        }
        return x / y;
    }

    /** Unary minus or plus. */
    static Object unary(String op, Object v) {
        if (v instanceof Undefined u) {
            throw u.fail();
        } else if (v instanceof Double d) {
            return op.equals("-") ? -d : d;
        } else if (Py.isNumber(v)) {
            return op.equals("-") ? Math.negateExact(Py.asLong(v)) : Py.asLong(v);
        }
        throw PyError.type("bad operand type for unary " + op + ": '" + Py.typeName(v) + "'");
    }

    /** A comparison operator: {@code == != < <= > >= in notin}. */
    static boolean compare(String op, Object a, Object b) {
        switch (op) {
            case "==":
                return Py.eq(a, b);
            case "!=":
                return !Py.eq(a, b);
            case "in":
                return contains(b, a);
            case "notin":
                return !contains(b, a);
            default:
                checkDefined(a, b);
                int c = order(op, a, b);
                return switch (op) {
                    case "<" -> c < 0;
                    case "<=" -> c <= 0;
                    case ">" -> c > 0;
                    default -> c >= 0;
                };
        }
    }

    private static int order(String op, Object a, Object b) {
        if (Py.isNumber(a) && Py.isNumber(b)) {
            if (a instanceof Double || b instanceof Double) {
                return Double.compare(Py.asDouble(a), Py.asDouble(b));
            }
            return Long.compare(Py.asLong(a), Py.asLong(b));
        } else if (a instanceof String x && b instanceof String y) {
            return Strings.compareCodePoints(x, y);
        } else if ((a instanceof List && b instanceof List) || (a instanceof PyTuple && b instanceof PyTuple)) {
            List<?> x = a instanceof PyTuple t ? t.items() : (List<?>) a;
            List<?> y = b instanceof PyTuple t ? t.items() : (List<?>) b;
            for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
                if (!Py.eq(x.get(i), y.get(i))) {
                    return order(op, x.get(i), y.get(i));
                }
            }
            return Integer.compare(x.size(), y.size());
        }
        throw PyError.type("'" + op + "' not supported between instances of '" + Py.typeName(a) + "' and '"
                + Py.typeName(b) + "'");
    }

    /** Python's {@code needle in haystack}. */
    static boolean contains(Object haystack, Object needle) {
        if (haystack instanceof String s) {
            if (needle instanceof String n) {
                return s.contains(n);
            } else if (needle instanceof Undefined u) {
                throw u.fail();
            }
            throw PyError.type("'in <string>' requires string as left operand, not " + Py.typeName(needle));
        } else if (haystack instanceof Map<?, ?> m) {
            return Attrs.dictGet(m, needle, Attrs.MISSING) != Attrs.MISSING;
        } else if (haystack == null || Py.isNumber(haystack)) {
            throw PyError.type("argument of type '" + Py.typeName(haystack) + "' is not iterable");
        }
        for (Object x : Py.iter(haystack)) {
            if (Py.eq(x, needle)) {
                return true;
            }
        }
        return false;
    }
}
