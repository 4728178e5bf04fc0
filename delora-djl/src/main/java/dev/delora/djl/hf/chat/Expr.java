package dev.delora.djl.hf.chat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Expression nodes; each evaluates itself in a scope. */
interface Expr {

    /**
     * Evaluates the expression.
     *
     * @param s the scope names are resolved in
     * @return the value
     */
    Object eval(Scope s);

    static List<Object> evalAll(List<Expr> exprs, Scope s) {
        List<Object> out = new ArrayList<>();
        for (Expr e : exprs) {
            out.add(e.eval(s));
        }
        return out;
    }

    /** Keyword arguments of a call, filter or test. */
    record Kwargs(List<String> names, List<Expr> values) {
        static final Kwargs NONE = new Kwargs(List.of(), List.of());

        Map<String, Object> eval(Scope s) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (int i = 0; i < names.size(); i++) {
                out.put(names.get(i), values.get(i).eval(s));
            }
            return out;
        }
    }

    /** A literal. */
    record Const(Object value) implements Expr {
        @Override
        public Object eval(Scope s) {
            return value;
        }
    }

    /** A variable. */
    record Name(String name) implements Expr {
        @Override
        public Object eval(Scope s) {
            return s.lookup(name);
        }
    }

    /** {@code [a, b]}, or {@code (a, b)} when {@code tuple}. */
    record Seq(List<Expr> items, boolean tuple) implements Expr {
        @Override
        public Object eval(Scope s) {
            List<Object> v = evalAll(items, s);
            return tuple ? new PyTuple(v) : v;
        }
    }

    /** {@code {k: v}}. */
    record Dict(List<Expr> keys, List<Expr> values) implements Expr {
        @Override
        public Object eval(Scope s) {
            Map<Object, Object> out = new LinkedHashMap<>();
            for (int i = 0; i < keys.size(); i++) {
                Object k = keys.get(i).eval(s);
                if (k instanceof List || k instanceof Map || k instanceof Undefined) {
                    throw PyError.type("unhashable type: '" + Py.typeName(k) + "'");
                }
                Object existing = Attrs.dictGet(out, k, Attrs.MISSING);
                out.put(
                        existing == Attrs.MISSING ? k : keyOf(out, k),
                        values.get(i).eval(s));
            }
            return out;
        }

        private static Object keyOf(Map<Object, Object> m, Object k) {
            return m.keySet().stream().filter(x -> Py.eq(x, k)).findFirst().orElse(k);
        }
    }

    /** {@code obj.name}. */
    record GetAttr(Expr obj, String name) implements Expr {
        @Override
        public Object eval(Scope s) {
            return Attrs.getattr(obj.eval(s), name);
        }
    }

    /** {@code obj[key]}, where key may be a {@link Slice}. */
    record GetItem(Expr obj, Expr key) implements Expr {
        @Override
        public Object eval(Scope s) {
            Object o = obj.eval(s);
            Object k = key.eval(s);
            if (k instanceof Undefined u && !(o instanceof Undefined)) {
                return Undefined.missing(o, k);
            }
            return Attrs.getitem(o, k);
        }
    }

    /** {@code start:stop:step} inside brackets. */
    record Slice(Expr start, Expr stop, Expr step) implements Expr {
        @Override
        public Object eval(Scope s) {
            return new Attrs.PySlice(opt(start, s), opt(stop, s), opt(step, s));
        }

        private static Object opt(Expr e, Scope s) {
            return e == null ? null : e.eval(s);
        }
    }

    /** {@code fn(args, name=value)}. */
    record Call(Expr fn, List<Expr> args, Kwargs kwargs) implements Expr {
        @Override
        public Object eval(Scope s) {
            Object f = fn.eval(s);
            List<Object> a = evalAll(args, s);
            Map<String, Object> kw = kwargs.eval(s);
            if (f instanceof PyCallable c) {
                return c.call(a, kw);
            } else if (f instanceof Undefined u) {
                throw u.fail();
            }
            throw PyError.type("'" + Py.typeName(f) + "' object is not callable");
        }
    }

    /** {@code value | name(args)}. */
    record Filter(Expr value, String name, List<Expr> args, Kwargs kwargs) implements Expr {
        @Override
        public Object eval(Scope s) {
            return Filters.apply(name, value.eval(s), evalAll(args, s), kwargs.eval(s), s);
        }
    }

    /** {@code value is [not] name(args)}. */
    record Test(Expr value, String name, List<Expr> args, boolean negated) implements Expr {
        @Override
        public Object eval(Scope s) {
            return negated != Tests.apply(name, value.eval(s), evalAll(args, s), s);
        }
    }

    /** {@code -x}, {@code +x}, {@code not x}. */
    record Unary(String op, Expr operand) implements Expr {
        @Override
        public Object eval(Scope s) {
            Object v = operand.eval(s);
            return op.equals("not") ? !Py.truthy(v) : PyOps.unary(op, v);
        }
    }

    /** Arithmetic and {@code ~}. */
    record Binary(String op, Expr left, Expr right) implements Expr {
        @Override
        public Object eval(Scope s) {
            return PyOps.binary(op, left.eval(s), right.eval(s));
        }
    }

    /** {@code and} / {@code or}, returning an operand as Python does. */
    record Logic(boolean and, Expr left, Expr right) implements Expr {
        @Override
        public Object eval(Scope s) {
            Object l = left.eval(s);
            return Py.truthy(l) == and ? right.eval(s) : l;
        }
    }

    /** A (possibly chained) comparison. */
    record Compare(Expr first, List<String> ops, List<Expr> rest) implements Expr {
        @Override
        public Object eval(Scope s) {
            Object l = first.eval(s);
            for (int i = 0; i < ops.size(); i++) {
                Object r = rest.get(i).eval(s);
                if (!PyOps.compare(ops.get(i), l, r)) {
                    return false;
                }
                l = r;
            }
            return true;
        }
    }

    /** {@code a if test else b}; without else, an undefined value. */
    record Cond(Expr test, Expr then, Expr otherwise) implements Expr {
        @Override
        public Object eval(Scope s) {
            if (Py.truthy(test.eval(s))) {
                return then.eval(s);
            }
            return otherwise == null
                    ? Undefined.hint("the inline if-expression evaluated to false and no else section was defined.")
                    : otherwise.eval(s);
        }
    }
}
