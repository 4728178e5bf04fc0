package dev.delora.djl.hf.chat;

import dev.delora.djl.hf.chat.Token.Type;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * jinja2's lexer with {@code trim_blocks=True, lstrip_blocks=True}: whitespace control ({@code -}/{@code +}),
 * comments, {@code raw} blocks, newline normalization and the dropped final newline.
 */
final class Lexer {

    private static final int FLAGS = Pattern.DOTALL | Pattern.UNICODE_CHARACTER_CLASS;
    private static final Pattern FLOAT =
            Pattern.compile("(?<!\\.)(\\d+_)*\\d+((\\.(\\d+_)*\\d+)?[eE][+\\-]?(\\d+_)*\\d+|\\.(\\d+_)*\\d+)", FLAGS);
    private static final Pattern INTEGER =
            Pattern.compile("(0[bB](_?[0-1])+|0[oO](_?[0-7])+|0[xX](_?[\\da-fA-F])+|[1-9](_?\\d)*|0(_?0)*)", FLAGS);
    private static final Pattern NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Pattern STRING =
            Pattern.compile("('([^'\\\\]*(?:\\\\.[^'\\\\]*)*)'|\"([^\"\\\\]*(?:\\\\.[^\"\\\\]*)*)\")", FLAGS);
    private static final Pattern RAW_BEGIN = Pattern.compile("\\{%([-+]?)\\s*raw\\s*(?:-%}\\s*|%})", FLAGS);
    private static final Pattern RAW_END = Pattern.compile("\\{%([-+]?)\\s*endraw\\s*(?:\\+%}|-%}\\s*|%}\\n?)", FLAGS);
    private static final String[] OPERATORS = {
        "**", "//", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", "|", ".", ",",
        ":", "=", "<", ">", ";"
    };

    private final String src;
    private final List<Token> tokens = new ArrayList<>();
    private final Deque<String> balance = new ArrayDeque<>();
    private final int[] newlines;
    private final int newlineCount;
    private int pos;
    private boolean lineStarting = true;

    private Lexer(String template) {
        String s = template.replace("\r\n", "\n").replace('\r', '\n');
        this.src = s.endsWith("\n") ? s.substring(0, s.length() - 1) : s;
        this.newlines = new int[src.length() + 1];
        int n = 0;
        for (int i = 0; i < src.length(); i++) {
            if (src.charAt(i) == '\n') {
                newlines[n++] = i;
            }
        }
        this.newlineCount = n;
    }

    /** Tokenizes a template (syntax errors are {@code TemplateSyntaxError}s with the line). */
    static List<Token> tokenize(String template) {
        Lexer lx = new Lexer(template);
        lx.run();
        lx.tokens.add(new Token(Type.EOF, "", lx.line(lx.src.length())));
        return lx.tokens;
    }

    private int line(int at) {
        int i = java.util.Arrays.binarySearch(newlines, 0, newlineCount, at);
        return (i >= 0 ? i : -i - 1) + 1;
    }

    private PyError error(String message, int at) {
        return new PyError("TemplateSyntaxError", message, line(at));
    }

    private void run() {
        while (pos < src.length()) {
            int i = nextTag(pos);
            if (i < 0) {
                data(src.substring(pos), pos);
                return;
            }
            String kind = src.substring(i, i + 2);
            Matcher raw = RAW_BEGIN.matcher(src).region(i, src.length());
            boolean isRaw = kind.equals("{%") && raw.lookingAt();
            char sign = i + 2 < src.length() && "-+".indexOf(src.charAt(i + 2)) >= 0 ? src.charAt(i + 2) : 0;
            data(leftStrip(src.substring(pos, i), sign, !kind.equals("{{")), pos);
            if (isRaw) {
                raw(raw.end());
            } else if (kind.equals("{#")) {
                comment(i + (sign != 0 ? 3 : 2));
            } else {
                boolean block = kind.equals("{%");
                tokens.add(new Token(block ? Type.BLOCK_BEGIN : Type.VARIABLE_BEGIN, kind, line(i)));
                pos = i + (sign != 0 ? 3 : 2);
                lineStarting = false;
                tag(block);
            }
        }
    }

    private int nextTag(int from) {
        for (int i = src.indexOf('{', from); i >= 0 && i + 1 < src.length(); i = src.indexOf('{', i + 1)) {
            char c = src.charAt(i + 1);
            if (c == '%' || c == '{' || c == '#') {
                return i;
            }
        }
        return -1;
    }

    private String leftStrip(String text, char sign, boolean lstripKind) {
        if (sign == '-') {
            return Strings.strip(text, null, false, true);
        } else if (sign != '+' && lstripKind) {
            int l = text.lastIndexOf('\n') + 1;
            if ((l > 0 || lineStarting) && l < text.length()) {
                for (int k = l; k < text.length(); k++) {
                    if (!Py.isSpace(text.charAt(k))) {
                        return text;
                    }
                }
                return text.substring(0, l);
            }
        }
        return text;
    }

    private void data(String text, int at) {
        if (!text.isEmpty()) {
            tokens.add(new Token(Type.DATA, text, line(at)));
        }
    }

    private void raw(int from) {
        Matcher end = RAW_END.matcher(src);
        if (!end.find(from)) {
            throw error("Missing end of raw directive", from);
        }
        lineStarting = src.charAt(from - 1) == '\n';
        char sign = end.group(1).isEmpty() ? 0 : end.group(1).charAt(0);
        data(leftStrip(src.substring(from, end.start()), sign, true), from);
        pos = end.end();
        lineStarting = src.charAt(pos - 1) == '\n';
    }

    private void comment(int from) {
        int j = src.indexOf("#}", from);
        if (j < 0) {
            throw error("Missing end of comment tag", from);
        }
        char sign = j - 1 >= from && "-+".indexOf(src.charAt(j - 1)) >= 0 ? src.charAt(j - 1) : 0;
        pos = j + 2;
        if (sign == '-') {
            pos = skipSpace(pos);
        } else if (sign == 0 && pos < src.length() && src.charAt(pos) == '\n') {
            pos++;
        }
        lineStarting = src.charAt(pos - 1) == '\n';
    }

    private int skipSpace(int at) {
        int p = at;
        while (p < src.length() && Py.isSpace(src.charAt(p))) {
            p++;
        }
        return p;
    }

    private void tag(boolean block) {
        String close = block ? "%}" : "}}";
        while (true) {
            if (pos >= src.length()) {
                throw error("unexpected end of template, expected '" + close + "'", pos);
            }
            if (balance.isEmpty() && end(block, close)) {
                return;
            }
            char c = src.charAt(pos);
            if (Py.isSpace(c)) {
                pos = skipSpace(pos);
                continue;
            }
            int at = pos;
            if (match(FLOAT, Type.FLOAT) || match(INTEGER, Type.INTEGER) || match(NAME, Type.NAME)) {
                continue;
            }
            Matcher m = STRING.matcher(src).region(pos, src.length());
            if (m.lookingAt()) {
                String body = m.group(2) != null ? m.group(2) : m.group(3);
                tokens.add(new Token(Type.STRING, unescape(body, at), line(at)));
                pos = m.end();
                continue;
            }
            operator(at);
        }
    }

    private boolean end(boolean block, String close) {
        int p;
        if (block && src.startsWith("+%}", pos)) {
            p = pos + 3;
        } else if (src.startsWith("-" + close, pos)) {
            p = skipSpace(pos + 3);
        } else if (src.startsWith(close, pos)) {
            p = pos + 2;
            if (block && p < src.length() && src.charAt(p) == '\n') {
                p++;
            }
        } else {
            return false;
        }
        tokens.add(new Token(block ? Type.BLOCK_END : Type.VARIABLE_END, close, line(pos)));
        pos = p;
        lineStarting = src.charAt(p - 1) == '\n';
        return true;
    }

    private boolean match(Pattern p, Type type) {
        Matcher m = p.matcher(src).region(pos, src.length()).useTransparentBounds(true);
        if (!m.lookingAt()) {
            return false;
        }
        tokens.add(new Token(type, m.group(), line(pos)));
        pos = m.end();
        return true;
    }

    private void operator(int at) {
        for (String op : OPERATORS) {
            if (src.startsWith(op, at)) {
                if (op.equals("{") || op.equals("(") || op.equals("[")) {
                    balance.push(op.equals("{") ? "}" : op.equals("(") ? ")" : "]");
                } else if (op.equals("}") || op.equals(")") || op.equals("]")) {
                    if (balance.isEmpty()) {
                        throw error("unexpected '" + op + "'", at);
                    }
                    String expected = balance.pop();
                    if (!expected.equals(op)) {
                        throw error("unexpected '" + op + "', expected '" + expected + "'", at);
                    }
                }
                tokens.add(new Token(Type.OPERATOR, op, line(at)));
                pos = at + op.length();
                return;
            }
        }
        throw error("unexpected char '" + src.charAt(at) + "' at " + at, at);
    }

    /** Python's {@code unicode-escape} decoding of a string literal's body. */
    private String unescape(String s, int at) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\' || i + 1 >= s.length()) {
                b.append(c);
                continue;
            }
            char e = s.charAt(++i);
            int hex = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
            if (hex > 0) {
                String digits = i + hex < s.length() ? s.substring(i + 1, i + 1 + hex) : "";
                if (!digits.matches("[0-9a-fA-F]{" + hex + "}")) {
                    throw error("truncated \\" + e + " escape in a string literal", at);
                }
                b.appendCodePoint(Integer.parseInt(digits, 16));
                i += hex;
            } else if (e >= '0' && e <= '7') {
                int j = i;
                while (j < s.length() && j < i + 3 && s.charAt(j) >= '0' && s.charAt(j) <= '7') {
                    j++;
                }
                b.appendCodePoint(Integer.parseInt(s.substring(i, j), 8));
                i = j - 1;
            } else if (e == 'N' && i + 1 < s.length() && s.charAt(i + 1) == '{' && s.indexOf('}', i) > 0) {
                int close = s.indexOf('}', i);
                b.appendCodePoint(Character.codePointOf(s.substring(i + 2, close)));
                i = close;
            } else {
                int k = "nrtabfv\\'\"\n".indexOf(e);
                if (k < 0) {
                    b.append('\\').append(e);
                } else if (e != '\n') {
                    b.append("\n\r\t\u0007\b\f\u000b\\'\"".charAt(k));
                }
            }
        }
        return b.toString();
    }
}
