package dev.delora.djl.hf.chat;

import java.util.ArrayList;
import java.util.List;

/** Statement nodes; each renders itself into the output. */
interface Stmt {

    /** How a statement list ended: normally, or by {@code break} / {@code continue}. */
    enum Flow {
        NORMAL,
        BREAK,
        CONTINUE
    }

    /** The 1-based template line, for errors. */
    int line();

    /**
     * Renders the statement.
     *
     * @param s the current scope
     * @param out the output
     * @return how control continues
     */
    Flow exec(Scope s, StringBuilder out);

    /** Runs a body, attaching the failing statement's line to errors. */
    static Flow run(List<Stmt> body, Scope s, StringBuilder out) {
        for (Stmt st : body) {
            Flow f;
            try {
                f = st.exec(s, out);
            } catch (PyError e) {
                throw e.at(st.line());
            } catch (ArithmeticException e) {
                throw new PyError("OverflowError", String.valueOf(e.getMessage()), st.line());
            }
            if (f != Flow.NORMAL) {
                return f;
            }
        }
        return Flow.NORMAL;
    }

    /** An assignment target: a name, or names to unpack a sequence into. */
    record Target(List<String> names, boolean tuple) {

        void assign(Scope s, Object value) {
            if (!tuple) {
                s.set(names.get(0), value);
                return;
            }
            List<Object> items = Py.list(value);
            if (items.size() < names.size()) {
                throw PyError.value(
                        "not enough values to unpack (expected " + names.size() + ", got " + items.size() + ")");
            } else if (items.size() > names.size()) {
                throw PyError.value("too many values to unpack (expected " + names.size() + ")");
            }
            for (int i = 0; i < names.size(); i++) {
                s.set(names.get(i), items.get(i));
            }
        }
    }

    /** Template text. */
    record Text(String text, int line) implements Stmt {
        @Override
        public Flow exec(Scope s, StringBuilder out) {
            out.append(text);
            return Flow.NORMAL;
        }
    }

    /** {@code {{ expr }}}. */
    record Output(Expr expr, int line) implements Stmt {
        @Override
        public Flow exec(Scope s, StringBuilder out) {
            out.append(Py.str(expr.eval(s)));
            return Flow.NORMAL;
        }
    }

    /** {@code if / elif / else}. */
    record If(List<Expr> tests, List<List<Stmt>> bodies, List<Stmt> orElse, int line) implements Stmt {
        @Override
        public Flow exec(Scope s, StringBuilder out) {
            for (int i = 0; i < tests.size(); i++) {
                if (Py.truthy(tests.get(i).eval(s))) {
                    return run(bodies.get(i), s, out);
                }
            }
            return run(orElse, s, out);
        }
    }

    /** {@code for target in iter [if filter] ... [else ...]}. */
    record For(Target target, Expr iter, Expr filter, List<Stmt> body, List<Stmt> orElse, int line) implements Stmt {
        @Override
        public Flow exec(Scope s, StringBuilder out) {
            List<Object> items = new ArrayList<>();
            for (Object item : Py.iter(iter.eval(s))) {
                if (filter != null) {
                    Scope f = new Scope(s);
                    target.assign(f, item);
                    if (!Py.truthy(filter.eval(f))) {
                        continue;
                    }
                }
                items.add(item);
            }
            if (items.isEmpty()) {
                return run(orElse, s, out);
            }
            Loop loop = new Loop(items);
            for (int i = 0; i < items.size(); i++) {
                Scope it = new Scope(s);
                loop.advance(i);
                it.set("loop", loop);
                target.assign(it, items.get(i));
                if (run(body, it, out) == Flow.BREAK) {
                    break;
                }
            }
            return Flow.NORMAL;
        }
    }

    /** {@code set target = value}. */
    record Set(Target target, Expr value, int line) implements Stmt {
        @Override
        public Flow exec(Scope s, StringBuilder out) {
            target.assign(s, value.eval(s));
            return Flow.NORMAL;
        }
    }

    /** {@code set ns.attr = value}. */
    record SetAttr(String name, String attr, Expr value, int line) implements Stmt {
        @Override
        public Flow exec(Scope s, StringBuilder out) {
            Object ns = s.lookup(name);
            if (!(ns instanceof Namespace n)) {
                throw new PyError("TemplateRuntimeError", "cannot assign attribute on non-namespace object");
            }
            n.attrs.put(attr, value.eval(s));
            return Flow.NORMAL;
        }
    }

    /** {@code set x [| filters] %}...{% endset}} and {@code filter f %}...{% endfilter}: the body, filtered. */
    record Capture(Target target, Expr filter, List<Stmt> body, int line) implements Stmt {
        /** The name the captured text has inside {@code filter}. */
        static final String CAPTURED = " captured";

        @Override
        public Flow exec(Scope s, StringBuilder out) {
            StringBuilder b = new StringBuilder();
            run(body, new Scope(s), b);
            Object value = b.toString();
            if (filter != null) {
                Scope f = new Scope(s);
                f.set(CAPTURED, value);
                value = filter.eval(f);
            }
            if (target == null) {
                out.append(Py.str(value));
            } else {
                target.assign(s, value);
            }
            return Flow.NORMAL;
        }
    }

    /** {@code macro name(params)}. */
    record MacroDef(String name, List<String> params, List<Expr> defaults, List<Stmt> body, int line) implements Stmt {
        @Override
        public Flow exec(Scope s, StringBuilder out) {
            s.set(name, new Macro(this, s));
            return Flow.NORMAL;
        }
    }

    /** {@code break} or {@code continue}. */
    record Jump(Flow flow, int line) implements Stmt {
        @Override
        public Flow exec(Scope s, StringBuilder out) {
            return flow;
        }
    }

    /** {@code generation} (renders its body) and {@code with} (a scope for its assignments). */
    record Block(List<Target> targets, List<Expr> values, List<Stmt> body, int line) implements Stmt {
        @Override
        public Flow exec(Scope s, StringBuilder out) {
            Scope inner = targets.isEmpty() ? s : new Scope(s);
            List<Object> v = Expr.evalAll(values, s);
            for (int i = 0; i < targets.size(); i++) {
                targets.get(i).assign(inner, v.get(i));
            }
            return run(body, inner, out);
        }
    }
}
