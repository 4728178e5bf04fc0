package dev.delora.djl.hf.chat;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** jinja2's builtin tests ({@code is defined}, {@code is string}, ...). */
final class Tests {

    static final Set<String> NAMES = Set.of(
            "defined",
            "undefined",
            "none",
            "string",
            "mapping",
            "iterable",
            "sequence",
            "number",
            "integer",
            "float",
            "boolean",
            "true",
            "false",
            "odd",
            "even",
            "divisibleby",
            "in",
            "equalto",
            "eq",
            "==",
            "ne",
            "!=",
            "lt",
            "<",
            "le",
            "<=",
            "gt",
            ">",
            "ge",
            ">=",
            "sameas",
            "callable",
            "lower",
            "upper",
            "escaped");

    private Tests() {}

    private static Object arg(String name, List<Object> args) {
        if (args.size() != 1) {
            throw PyError.type(name + "() takes exactly 2 positional arguments (" + (args.size() + 1) + " given)");
        }
        return args.get(0);
    }

    private static long integer(String name, Object v) {
        if (v instanceof Long || v instanceof Boolean) {
            return Py.asLong(v);
        } else if (v instanceof Undefined u) {
            throw u.fail();
        }
        throw PyError.type("test '" + name + "' needs an integer, not " + Py.typeName(v));
    }

    static boolean apply(String name, Object v, List<Object> args, Scope s) {
        switch (name) {
            case "defined":
                return !(v instanceof Undefined);
            case "undefined":
                return v instanceof Undefined;
            case "none":
                return v == null;
            case "string":
                return v instanceof String;
            case "mapping":
                return v instanceof Map;
            case "iterable":
                return v instanceof String
                        || v instanceof List
                        || v instanceof Map
                        || v instanceof PyTuple
                        || v instanceof PyIter
                        || v instanceof Undefined;
            case "sequence":
                return v instanceof String
                        || v instanceof List
                        || v instanceof Map
                        || v instanceof PyTuple
                        || v instanceof Undefined;
            case "number":
                return Py.isNumber(v);
            case "integer":
                return v instanceof Long;
            case "float":
                return v instanceof Double;
            case "boolean":
                return v instanceof Boolean;
            case "true":
                return Boolean.TRUE.equals(v);
            case "false":
                return Boolean.FALSE.equals(v);
            case "odd":
                return Math.floorMod(integer(name, v), 2) == 1;
            case "even":
                return Math.floorMod(integer(name, v), 2) == 0;
            case "divisibleby":
                long d = integer(name, arg(name, args));
                if (d == 0) {
                    throw new PyError("ZeroDivisionError", "integer modulo by zero");
                }
                return Math.floorMod(integer(name, v), d) == 0;
            case "in":
                return PyOps.contains(arg(name, args), v);
            case "equalto":
            case "eq":
            case "==":
                return Py.eq(v, arg(name, args));
            case "ne":
            case "!=":
                return !Py.eq(v, arg(name, args));
            case "lt":
            case "<":
                return PyOps.compare("<", v, arg(name, args));
            case "le":
            case "<=":
                return PyOps.compare("<=", v, arg(name, args));
            case "gt":
            case ">":
                return PyOps.compare(">", v, arg(name, args));
            case "ge":
            case ">=":
                return PyOps.compare(">=", v, arg(name, args));
            case "sameas":
                Object o = arg(name, args);
                return v == o || (v instanceof Boolean && v.equals(o));
            case "callable":
                return v instanceof PyCallable;
            case "lower":
                return Py.str(v).equals(Py.str(v).toLowerCase(Locale.ROOT));
            case "upper":
                return Py.str(v).equals(Py.str(v).toUpperCase(Locale.ROOT));
            case "escaped":
                return false;
            default:
                throw new PyError("TemplateRuntimeError", "No test named '" + name + "'.");
        }
    }
}
