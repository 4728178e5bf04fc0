package dev.delora.djl.hf.chat;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Python's {@code str} methods that chat templates call, with Python's results and errors. */
final class Strings {

    private Strings() {}

    static int compareCodePoints(String x, String y) {
        int i = 0;
        int j = 0;
        while (i < x.length() && j < y.length()) {
            int a = x.codePointAt(i);
            int b = y.codePointAt(j);
            if (a != b) {
                return Integer.compare(a, b);
            }
            i += Character.charCount(a);
            j += Character.charCount(b);
        }
        return Integer.compare(x.length() - i, y.length() - j);
    }

    private static boolean strips(char c, String chars) {
        return chars == null ? Py.isSpace(c) : chars.indexOf(c) >= 0;
    }

    /** {@code str.strip/lstrip/rstrip(chars)}; {@code chars == null} strips whitespace. */
    static String strip(String s, String chars, boolean left, boolean right) {
        int a = 0;
        int b = s.length();
        while (left && a < b && strips(s.charAt(a), chars)) {
            a++;
        }
        while (right && b > a && strips(s.charAt(b - 1), chars)) {
            b--;
        }
        return s.substring(a, b);
    }

    /** {@code str.split(sep, maxsplit)}; {@code sep == null} splits on whitespace runs. */
    static List<Object> split(String s, String sep, long maxsplit) {
        List<Object> out = new ArrayList<>();
        if (sep == null) {
            int i = 0;
            while (true) {
                while (i < s.length() && Py.isSpace(s.charAt(i))) {
                    i++;
                }
                if (i >= s.length()) {
                    return out;
                }
                if (maxsplit >= 0 && out.size() >= maxsplit) {
                    out.add(strip(s.substring(i), null, false, true));
                    return out;
                }
                int j = i;
                while (j < s.length() && !Py.isSpace(s.charAt(j))) {
                    j++;
                }
                out.add(s.substring(i, j));
                i = j;
            }
        }
        if (sep.isEmpty()) {
            throw PyError.value("empty separator");
        }
        int i = 0;
        while (maxsplit < 0 || out.size() < maxsplit) {
            int j = s.indexOf(sep, i);
            if (j < 0) {
                break;
            }
            out.add(s.substring(i, j));
            i = j + sep.length();
        }
        out.add(s.substring(i));
        return out;
    }

    /** {@code str.rsplit(sep, maxsplit)} with a separator. */
    static List<Object> rsplit(String s, String sep, long maxsplit) {
        if (sep == null || maxsplit < 0) {
            return split(s, sep, maxsplit < 0 ? -1 : maxsplit);
        }
        List<Object> out = new ArrayList<>();
        int end = s.length();
        while (out.size() < maxsplit) {
            int j = s.lastIndexOf(sep, end - sep.length());
            if (j < 0 || sep.isEmpty()) {
                break;
            }
            out.add(0, s.substring(j + sep.length(), end));
            end = j;
        }
        out.add(0, s.substring(0, end));
        return out;
    }

    private static boolean isLineBreak(char c) {
        return "\n\r\u000b\f\u001c\u001d\u001e\u0085\u2028\u2029".indexOf(c) >= 0;
    }

    /** {@code str.splitlines(keepends)}. */
    static List<Object> splitlines(String s, boolean keepends) {
        List<Object> out = new ArrayList<>();
        int i = 0;
        int start = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (isLineBreak(c)) {
                int eol = (c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n') ? i + 2 : i + 1;
                out.add(s.substring(start, keepends ? eol : i));
                start = eol;
                i = eol;
            } else {
                i++;
            }
        }
        if (start < s.length()) {
            out.add(s.substring(start));
        }
        return out;
    }

    /** {@code str.capitalize()}: first character upper case, the rest lower case. */
    static String capitalize(String s) {
        if (s.isEmpty()) {
            return s;
        }
        int first = s.codePointAt(0);
        return new String(Character.toChars(Character.toTitleCase(first)))
                + s.substring(Character.charCount(first)).toLowerCase(Locale.ROOT);
    }

    /** {@code str.title()}: upper case after a non-letter, lower case after a letter. */
    static String title(String s) {
        StringBuilder b = new StringBuilder();
        boolean prevCased = false;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            b.appendCodePoint(prevCased ? Character.toLowerCase(cp) : Character.toTitleCase(cp));
            prevCased = Character.isLetter(cp);
        }
        return b.toString();
    }

    /** {@code str.replace(old, new, count)}. */
    static String replace(String s, String old, String rep, long count) {
        long limit = count < 0 ? Long.MAX_VALUE : count;
        StringBuilder b = new StringBuilder();
        long n = 0;
        if (old.isEmpty()) {
            for (int i = 0; i <= s.length(); i++) {
                if (n++ < limit) {
                    b.append(rep);
                }
                if (i < s.length()) {
                    b.append(s.charAt(i));
                }
            }
            return b.toString();
        }
        int i = 0;
        for (int j = s.indexOf(old); j >= 0 && n < limit; j = s.indexOf(old, i), n++) {
            b.append(s, i, j).append(rep);
            i = j + old.length();
        }
        return b.append(s.substring(i)).toString();
    }

    /** {@code str.count(sub)}. */
    static long count(String s, String sub) {
        if (sub.isEmpty()) {
            return s.codePointCount(0, s.length()) + 1L;
        }
        long n = 0;
        for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) {
            n++;
        }
        return n;
    }

    /** {@code str.startswith/endswith(prefix)} where prefix is a string or a tuple of strings. */
    static boolean affix(String s, Object affix, boolean start, String method) {
        List<Object> options = affix instanceof PyTuple t ? t.items() : List.of(affix);
        for (Object o : options) {
            if (!(o instanceof String a)) {
                throw PyError.type(method + " first arg must be str or a tuple of str, not " + Py.typeName(o));
            }
            if (start ? s.startsWith(a) : s.endsWith(a)) {
                return true;
            }
        }
        return false;
    }

    /** {@code sep.join(items)}: every item must be a str. */
    static String join(String sep, Object items) {
        StringBuilder b = new StringBuilder();
        int i = 0;
        for (Object o : Py.iter(items)) {
            if (!(o instanceof String s)) {
                throw PyError.type("sequence item " + i + ": expected str instance, " + Py.typeName(o) + " found");
            }
            b.append(i++ > 0 ? sep : "").append(s);
        }
        return b.toString();
    }

    /** Index (in code points) of the first occurrence, or -1. */
    static long find(String s, String sub, boolean last) {
        int j = last ? s.lastIndexOf(sub) : s.indexOf(sub);
        return j < 0 ? -1 : s.codePointCount(0, j);
    }
}
