package dev.delora.djl.hf.chat;

/**
 * jinja2's default {@code Undefined}: prints as nothing, is false, iterates as empty, and fails with the jinja2
 * message when anything else is done with it (attribute, item, call, arithmetic).
 */
final class Undefined {

    private final String message;
    private final String kind;

    private Undefined(String message, String kind) {
        this.message = message;
        this.kind = kind;
    }

    /** A name that is not defined: {@code 'x' is undefined}. */
    static Undefined name(String name) {
        return new Undefined("'" + name + "' is undefined", "UndefinedError");
    }

    /** A missing attribute or item of {@code obj}, worded as jinja2's {@code _undefined_message}. */
    static Undefined missing(Object obj, Object key) {
        if (key instanceof String s) {
            return new Undefined("'" + Py.objectTypeRepr(obj) + "' has no attribute " + Py.repr(s), "UndefinedError");
        }
        return new Undefined(Py.objectTypeRepr(obj) + " has no element " + Py.repr(key), "UndefinedError");
    }

    /** An undefined value with an explicit hint (e.g. {@code No first item, sequence was empty.}). */
    static Undefined hint(String hint) {
        return new Undefined(hint, "UndefinedError");
    }

    /** The sandbox's answer to an unsafe attribute (e.g. {@code list.append}): fails with a SecurityError. */
    static Undefined unsafe(String attribute, Object obj) {
        return new Undefined(
                "access to attribute '" + attribute + "' of '" + Py.typeName(obj) + "' object is unsafe.",
                "SecurityError");
    }

    /** The failure any use of this value raises. */
    PyError fail() {
        return new PyError(kind, message);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Undefined;
    }

    @Override
    public int hashCode() {
        return 0;
    }

    @Override
    public String toString() {
        return "";
    }
}
