package dev.delora.djl.hf.chat;

import java.time.LocalDateTime;
import java.time.format.TextStyle;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The global functions of transformers' environment: jinja2's {@code range}, {@code dict} and {@code namespace},
 * and transformers' {@code raise_exception} and {@code strftime_now}.
 */
final class Globals {

    private static final Map<String, PyCallable> FUNCTIONS = Map.of(
            "range", Globals::range,
            "dict",
                    (args, kwargs) -> {
                        if (!args.isEmpty()) {
                            throw PyError.type("dict() positional arguments are not supported");
                        }
                        return new LinkedHashMap<Object, Object>(kwargs);
                    },
            "namespace", Globals::namespace,
            "raise_exception",
                    (args, kwargs) -> {
                        throw new PyError("TemplateError", args.isEmpty() ? "None" : Py.str(args.get(0)));
                    },
            "strftime_now",
                    (args, kwargs) -> {
                        if (args.size() != 1 || !(args.get(0) instanceof String f)) {
                            throw PyError.type("strftime_now() takes one format string");
                        }
                        return strftime(f, LocalDateTime.now());
                    });

    private Globals() {}

    /** The global named so, or {@code null}. */
    static Object get(String name) {
        return FUNCTIONS.get(name);
    }

    private static Object range(List<Object> args, Map<String, Object> kwargs) {
        if (args.isEmpty() || args.size() > 3 || !kwargs.isEmpty()) {
            throw PyError.type("range expected 1 to 3 arguments, got " + args.size());
        }
        long[] v = new long[args.size()];
        for (int i = 0; i < v.length; i++) {
            Object a = args.get(i);
            if (!(a instanceof Long || a instanceof Boolean)) {
                throw PyError.type("'" + Py.typeName(a) + "' object cannot be interpreted as an integer");
            }
            v[i] = Py.asLong(a);
        }
        return v.length == 1 ? new PyRange(0, v[0], 1) : new PyRange(v[0], v[1], v.length == 3 ? v[2] : 1);
    }

    private static Object namespace(List<Object> args, Map<String, Object> kwargs) {
        Namespace ns = new Namespace();
        for (Object a : args) {
            if (!(a instanceof Map<?, ?> m)) {
                throw PyError.type("namespace() takes a mapping as positional argument");
            }
            m.forEach((k, v) -> ns.attrs.put(Py.str(k), v));
        }
        ns.attrs.putAll(kwargs);
        return ns;
    }

    /** Python's {@code datetime.strftime} for the common directives. */
    static String strftime(String format, LocalDateTime t) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 >= format.length()) {
                b.append(c);
                continue;
            }
            char d = format.charAt(++i);
            boolean noPad = d == '-' && i + 1 < format.length();
            if (noPad) {
                d = format.charAt(++i);
            }
            String pad2 = noPad ? "%d" : "%02d";
            switch (d) {
                case 'Y' -> b.append(t.getYear());
                case 'y' -> b.append(String.format("%02d", t.getYear() % 100));
                case 'm' -> b.append(String.format(pad2, t.getMonthValue()));
                case 'd' -> b.append(String.format(pad2, t.getDayOfMonth()));
                case 'H' -> b.append(String.format(pad2, t.getHour()));
                case 'I' -> b.append(String.format(pad2, (t.getHour() + 11) % 12 + 1));
                case 'M' -> b.append(String.format(pad2, t.getMinute()));
                case 'S' -> b.append(String.format(pad2, t.getSecond()));
                case 'p' -> b.append(t.getHour() < 12 ? "AM" : "PM");
                case 'j' -> b.append(String.format(noPad ? "%d" : "%03d", t.getDayOfYear()));
                case 'b' -> b.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'B' -> b.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'a' -> b.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'A' -> b.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case '%' -> b.append('%');
                default -> throw PyError.value("strftime directive '%" + d + "' is not supported");
            }
        }
        return b.toString();
    }
}
