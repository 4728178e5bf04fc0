package dev.delora.djl.hf.chat;

import java.util.HashMap;
import java.util.Map;

/**
 * Variables visible at a point of the template: the root holds the render context and top-level {@code set}s;
 * each loop iteration, macro call and {@code with} block gets a child whose assignments do not leak out.
 */
final class Scope {

    private final Scope parent;
    private final Map<String, Object> vars = new HashMap<>();

    Scope(Scope parent) {
        this.parent = parent;
    }

    Object lookup(String name) {
        for (Scope s = this; s != null; s = s.parent) {
            if (s.vars.containsKey(name)) {
                return s.vars.get(name);
            }
        }
        Object global = Globals.get(name);
        return global != null ? global : Undefined.name(name);
    }

    void set(String name, Object value) {
        vars.put(name, value);
    }
}
