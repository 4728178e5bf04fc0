package dev.delora.djl.hf.chat;

import dev.delora.djl.hf.chat.Token.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** jinja2's expression grammar (precedence, filters, tests, subscripts, slices, calls). */
class ExprParser {

    private static final Set<String> COMPARE = Set.of("==", "!=", "<", ">", "<=", ">=");

    final List<Token> tokens;
    int pos;

    ExprParser(List<Token> tokens) {
        this.tokens = tokens;
    }

    Token cur() {
        return tokens.get(pos);
    }

    Token peek() {
        return tokens.get(Math.min(pos + 1, tokens.size() - 1));
    }

    Token next() {
        return tokens.get(pos++);
    }

    PyError error(String message, Token at) {
        return new PyError("TemplateSyntaxError", message, at.line());
    }

    Token expect(Type type, String value) {
        Token t = cur();
        if (t.type() != type || (value != null && !t.value().equals(value))) {
            String want = value != null
                    ? "'" + value + "'"
                    : type == Type.NAME ? "name" : type.name().toLowerCase();
            throw error("expected token " + want + ", got " + t.describe(), t);
        }
        return next();
    }

    boolean skipOp(String op) {
        if (cur().isOp(op)) {
            pos++;
            return true;
        }
        return false;
    }

    /** A comma-separated expression, a tuple when there is a comma ({@code parse_tuple}). */
    Expr parseTuple(boolean condExpr, boolean explicit, String extraEnd) {
        List<Expr> items = new ArrayList<>();
        boolean tuple = false;
        while (true) {
            if (!items.isEmpty()) {
                expect(Type.OPERATOR, ",");
            }
            Token t = cur();
            if (t.type() == Type.VARIABLE_END
                    || t.type() == Type.BLOCK_END
                    || t.isOp(")")
                    || (extraEnd != null && t.isName(extraEnd))) {
                break;
            }
            items.add(condExpr ? parseExpression() : parseOr());
            if (!cur().isOp(",")) {
                break;
            }
            tuple = true;
        }
        if (!tuple) {
            if (items.size() == 1) {
                return items.get(0);
            } else if (!explicit) {
                throw error("Expected an expression, got " + cur().describe(), cur());
            }
        }
        return new Expr.Seq(items, true);
    }

    Expr parseExpression() {
        Expr e = parseOr();
        while (cur().isName("if")) {
            pos++;
            Expr test = parseOr();
            Expr otherwise = null;
            if (cur().isName("else")) {
                pos++;
                otherwise = parseExpression();
            }
            e = new Expr.Cond(test, e, otherwise);
        }
        return e;
    }

    Expr parseOr() {
        Expr e = parseAnd();
        while (cur().isName("or")) {
            pos++;
            e = new Expr.Logic(false, e, parseAnd());
        }
        return e;
    }

    private Expr parseAnd() {
        Expr e = parseNot();
        while (cur().isName("and")) {
            pos++;
            e = new Expr.Logic(true, e, parseNot());
        }
        return e;
    }

    private Expr parseNot() {
        if (cur().isName("not")) {
            pos++;
            return new Expr.Unary("not", parseNot());
        }
        return parseCompare();
    }

    private Expr parseCompare() {
        Expr first = parseMath1();
        List<String> ops = new ArrayList<>();
        List<Expr> rest = new ArrayList<>();
        while (true) {
            Token t = cur();
            if (t.type() == Type.OPERATOR && COMPARE.contains(t.value())) {
                pos++;
                ops.add(t.value());
            } else if (t.isName("in")) {
                pos++;
                ops.add("in");
            } else if (t.isName("not") && peek().isName("in")) {
                pos += 2;
                ops.add("notin");
            } else {
                break;
            }
            rest.add(parseMath1());
        }
        return ops.isEmpty() ? first : new Expr.Compare(first, ops, rest);
    }

    private Expr parseMath1() {
        Expr e = parseConcat();
        while (cur().isOp("+") || cur().isOp("-")) {
            String op = next().value();
            e = new Expr.Binary(op, e, parseConcat());
        }
        return e;
    }

    private Expr parseConcat() {
        Expr e = parseMath2();
        while (skipOp("~")) {
            e = new Expr.Binary("~", e, parseMath2());
        }
        return e;
    }

    private Expr parseMath2() {
        Expr e = parsePow();
        while (cur().isOp("*") || cur().isOp("/") || cur().isOp("//") || cur().isOp("%")) {
            String op = next().value();
            e = new Expr.Binary(op, e, parsePow());
        }
        return e;
    }

    private Expr parsePow() {
        Expr e = parseUnary(true);
        while (skipOp("**")) {
            e = new Expr.Binary("**", e, parseUnary(true));
        }
        return e;
    }

    private Expr parseUnary(boolean withFilter) {
        Expr e;
        if (cur().isOp("-") || cur().isOp("+")) {
            String op = next().value();
            e = new Expr.Unary(op, parseUnary(false));
        } else {
            e = parsePrimary();
        }
        e = parsePostfix(e);
        return withFilter ? parseFilterExpr(e) : e;
    }

    private Expr parsePrimary() {
        Token t = next();
        switch (t.type()) {
            case NAME:
                return switch (t.value()) {
                    case "true", "True" -> new Expr.Const(true);
                    case "false", "False" -> new Expr.Const(false);
                    case "none", "None" -> new Expr.Const(null);
                    default -> new Expr.Name(t.value());
                };
            case STRING:
                StringBuilder b = new StringBuilder(t.value());
                while (cur().type() == Type.STRING) {
                    b.append(next().value());
                }
                return new Expr.Const(b.toString());
            case INTEGER:
                String digits = t.value().replace("_", "").toLowerCase();
                int radix =
                        digits.startsWith("0x") ? 16 : digits.startsWith("0o") ? 8 : digits.startsWith("0b") ? 2 : 10;
                return new Expr.Const(Long.parseLong(radix == 10 ? digits : digits.substring(2), radix));
            case FLOAT:
                return new Expr.Const(Double.parseDouble(t.value().replace("_", "")));
            case OPERATOR:
                if (t.value().equals("(")) {
                    Expr e = parseTuple(true, true, null);
                    expect(Type.OPERATOR, ")");
                    return e;
                } else if (t.value().equals("[")) {
                    List<Expr> items = new ArrayList<>();
                    while (!cur().isOp("]")) {
                        if (!items.isEmpty()) {
                            expect(Type.OPERATOR, ",");
                            if (cur().isOp("]")) {
                                break;
                            }
                        }
                        items.add(parseExpression());
                    }
                    expect(Type.OPERATOR, "]");
                    return new Expr.Seq(items, false);
                } else if (t.value().equals("{")) {
                    return parseDict();
                }
                throw error("unexpected '" + t.value() + "'", t);
            default:
                throw error("unexpected " + t.describe(), t);
        }
    }

    private Expr parseDict() {
        List<Expr> keys = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        while (!cur().isOp("}")) {
            if (!keys.isEmpty()) {
                expect(Type.OPERATOR, ",");
                if (cur().isOp("}")) {
                    break;
                }
            }
            keys.add(parseExpression());
            expect(Type.OPERATOR, ":");
            values.add(parseExpression());
        }
        expect(Type.OPERATOR, "}");
        return new Expr.Dict(keys, values);
    }

    private Expr parsePostfix(Expr node) {
        Expr e = node;
        while (true) {
            if (skipOp(".")) {
                Token t = next();
                if (t.type() == Type.NAME) {
                    e = new Expr.GetAttr(e, t.value());
                } else if (t.type() == Type.INTEGER) {
                    e = new Expr.GetItem(
                            e, new Expr.Const(Long.parseLong(t.value().replace("_", ""))));
                } else {
                    throw error("expected name or number", t);
                }
            } else if (skipOp("[")) {
                List<Expr> args = new ArrayList<>();
                while (!cur().isOp("]")) {
                    if (!args.isEmpty()) {
                        expect(Type.OPERATOR, ",");
                    }
                    args.add(parseSubscribed());
                }
                expect(Type.OPERATOR, "]");
                e = new Expr.GetItem(e, args.size() == 1 ? args.get(0) : new Expr.Seq(args, true));
            } else if (cur().isOp("(")) {
                e = parseCall(e);
            } else {
                return e;
            }
        }
    }

    private Expr parseSubscribed() {
        Expr start = null;
        if (!cur().isOp(":")) {
            start = parseExpression();
            if (!cur().isOp(":")) {
                return start;
            }
        }
        pos++;
        Expr stop = cur().isOp("]") || cur().isOp(",") || cur().isOp(":") ? null : parseExpression();
        Expr step = null;
        if (skipOp(":") && !cur().isOp("]") && !cur().isOp(",")) {
            step = parseExpression();
        }
        return new Expr.Slice(start, stop, step);
    }

    private record Args(List<Expr> args, Expr.Kwargs kwargs) {}

    private Args parseArgs() {
        expect(Type.OPERATOR, "(");
        List<Expr> args = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        while (!cur().isOp(")")) {
            if (!args.isEmpty() || !names.isEmpty()) {
                expect(Type.OPERATOR, ",");
                if (cur().isOp(")")) {
                    break;
                }
            }
            if (cur().isOp("*") || cur().isOp("**")) {
                throw error("*args and **kwargs in calls are not supported by this interpreter", cur());
            } else if (cur().type() == Type.NAME && peek().isOp("=")) {
                names.add(next().value());
                pos++;
                values.add(parseExpression());
            } else {
                if (!names.isEmpty()) {
                    throw error("positional argument follows keyword argument", cur());
                }
                args.add(parseExpression());
            }
        }
        expect(Type.OPERATOR, ")");
        return new Args(args, new Expr.Kwargs(names, values));
    }

    private Expr parseCall(Expr fn) {
        Args a = parseArgs();
        return new Expr.Call(fn, a.args(), a.kwargs());
    }

    /** One filter application, the current token being its name. */
    Expr parseFilter(Expr value) {
        Token name = expect(Type.NAME, null);
        if (!Filters.NAMES.contains(name.value())) {
            throw error("No filter named '" + name.value() + "'.", name);
        }
        Args a = cur().isOp("(") ? parseArgs() : new Args(List.of(), Expr.Kwargs.NONE);
        return new Expr.Filter(value, name.value(), a.args(), a.kwargs());
    }

    Expr parseFilterExpr(Expr node) {
        Expr e = node;
        while (true) {
            if (skipOp("|")) {
                e = parseFilter(e);
            } else if (cur().isName("is")) {
                pos++;
                boolean negated = cur().isName("not");
                pos += negated ? 1 : 0;
                Token name = expect(Type.NAME, null);
                if (!Tests.NAMES.contains(name.value())) {
                    throw error("No test named '" + name.value() + "'.", name);
                }
                List<Expr> args = List.of();
                Token t = cur();
                if (t.isOp("(")) {
                    args = parseArgs().args();
                } else if ((t.type() == Type.NAME
                                || t.type() == Type.STRING
                                || t.type() == Type.INTEGER
                                || t.type() == Type.FLOAT
                                || t.isOp("[")
                                || t.isOp("{"))
                        && !t.isName("else")
                        && !t.isName("or")
                        && !t.isName("and")) {
                    if (t.isName("is")) {
                        throw error("You cannot chain multiple tests with is", t);
                    }
                    args = List.of(parsePostfix(parsePrimary()));
                }
                e = new Expr.Test(e, name.value(), args, negated);
            } else if (cur().isOp("(")) {
                e = parseCall(e);
            } else {
                return e;
            }
        }
    }
}
