package dev.delora.djl.hf.chat;

import java.util.List;
import java.util.Map;

/** A macro defined by the template: called like a function, it returns its rendered body. */
final class Macro implements PyCallable {

    private final Stmt.MacroDef def;
    private final Scope closure;

    Macro(Stmt.MacroDef def, Scope closure) {
        this.def = def;
        this.closure = closure;
    }

    String name() {
        return def.name();
    }

    @Override
    public Object call(List<Object> args, Map<String, Object> kwargs) {
        List<String> params = def.params();
        if (args.size() > params.size()) {
            throw PyError.type("macro '" + def.name() + "' takes not more than " + params.size() + " argument(s)");
        }
        Scope s = new Scope(closure);
        for (String k : kwargs.keySet()) {
            int at = params.indexOf(k);
            if (at < 0) {
                throw PyError.type("macro '" + def.name() + "' takes no keyword argument '" + k + "'");
            } else if (at < args.size()) {
                throw PyError.type("macro '" + def.name() + "' got multiple values for argument '" + k + "'");
            }
        }
        int firstDefault = params.size() - def.defaults().size();
        for (int i = 0; i < params.size(); i++) {
            String p = params.get(i);
            if (i < args.size()) {
                s.set(p, args.get(i));
            } else if (kwargs.containsKey(p)) {
                s.set(p, kwargs.get(p));
            } else if (i >= firstDefault) {
                s.set(p, def.defaults().get(i - firstDefault).eval(s));
            } else {
                s.set(p, Undefined.hint("parameter '" + p + "' was not provided"));
            }
        }
        StringBuilder out = new StringBuilder();
        Stmt.run(def.body(), s, out);
        return out.toString();
    }
}
