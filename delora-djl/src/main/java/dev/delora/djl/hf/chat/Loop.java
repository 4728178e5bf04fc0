package dev.delora.djl.hf.chat;

import java.util.List;

/** jinja2's {@code loop} variable of a (non-recursive) for loop. */
final class Loop {

    private final List<Object> items;
    private int index0;
    private Object lastChanged = Attrs.MISSING;

    Loop(List<Object> items) {
        this.items = items;
    }

    void advance(int i) {
        this.index0 = i;
    }

    Object attribute(String name) {
        int n = items.size();
        switch (name) {
            case "index0":
                return (long) index0;
            case "index":
                return index0 + 1L;
            case "revindex":
                return (long) (n - index0);
            case "revindex0":
                return (long) (n - index0 - 1);
            case "first":
                return index0 == 0;
            case "last":
                return index0 == n - 1;
            case "length":
                return (long) n;
            case "depth":
                return 1L;
            case "depth0":
                return 0L;
            case "previtem":
                return index0 > 0 ? items.get(index0 - 1) : Undefined.hint("there is no previous item");
            case "nextitem":
                return index0 < n - 1 ? items.get(index0 + 1) : Undefined.hint("there is no next item");
            case "cycle":
                return (PyCallable) (args, kwargs) -> {
                    if (args.isEmpty()) {
                        throw PyError.type("no items for cycling given");
                    }
                    return args.get(index0 % args.size());
                };
            case "changed":
                return (PyCallable) (args, kwargs) -> {
                    Object value = args.size() == 1 ? args.get(0) : new PyTuple(args);
                    boolean changed = lastChanged == Attrs.MISSING || !Py.eq(value, lastChanged);
                    lastChanged = value;
                    return changed;
                };
            default:
                return Attrs.MISSING;
        }
    }
}
