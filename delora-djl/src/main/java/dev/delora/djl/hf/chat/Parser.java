package dev.delora.djl.hf.chat;

import dev.delora.djl.hf.chat.Token.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** jinja2's statement grammar for the tags chat templates use; any other tag is a syntax error. */
final class Parser extends ExprParser {

    private static final Set<String> UNSUPPORTED =
            Set.of("block", "extends", "include", "import", "from", "call", "autoescape", "do");

    private int loops;

    private Parser(List<Token> tokens) {
        super(tokens);
    }

    /** Parses a template into its statement list. */
    static List<Stmt> parse(String template) {
        Parser p = new Parser(Lexer.tokenize(template));
        return List.copyOf(p.subparse(Set.of()));
    }

    private List<Stmt> subparse(Set<String> end) {
        List<Stmt> body = new ArrayList<>();
        while (true) {
            Token t = cur();
            switch (t.type()) {
                case DATA:
                    body.add(new Stmt.Text(next().value(), t.line()));
                    break;
                case VARIABLE_BEGIN:
                    pos++;
                    body.add(new Stmt.Output(parseTuple(true, false, null), t.line()));
                    expect(Type.VARIABLE_END, null);
                    break;
                case BLOCK_BEGIN:
                    pos++;
                    Token name = cur();
                    if (name.type() != Type.NAME) {
                        throw error("tag name expected", name);
                    } else if (end.contains(name.value())) {
                        return body;
                    }
                    body.add(statement(name));
                    break;
                case EOF:
                    if (!end.isEmpty()) {
                        throw error(
                                "Unexpected end of template. Jinja was looking for the following tags: "
                                        + String.join(
                                                " or ",
                                                end.stream()
                                                        .sorted()
                                                        .map(x -> "'" + x + "'")
                                                        .toList())
                                        + ".",
                                t);
                    }
                    return body;
                default:
                    throw error("unexpected " + t.describe(), t);
            }
        }
    }

    private void endTag() {
        expect(Type.BLOCK_END, null);
    }

    /** Consumes {@code {% name %}} of an end or middle tag; the block-begin token is already consumed. */
    private String closing() {
        String name = next().value();
        endTag();
        return name;
    }

    private Stmt statement(Token name) {
        pos++;
        int line = name.line();
        switch (name.value()) {
            case "if":
                return parseIf(line);
            case "for":
                return parseFor(line);
            case "set":
                return parseSet(line);
            case "macro":
                return parseMacro(line);
            case "break":
            case "continue":
                if (loops == 0) {
                    throw error("'" + name.value() + "' outside of a for loop", name);
                }
                endTag();
                return new Stmt.Jump(name.value().equals("break") ? Stmt.Flow.BREAK : Stmt.Flow.CONTINUE, line);
            case "generation":
                endTag();
                List<Stmt> g = subparse(Set.of("endgeneration"));
                closing();
                return new Stmt.Block(List.of(), List.of(), g, line);
            case "with":
                return parseWith(line);
            case "filter":
                Expr f = parseFilterExpr(parseFilter(new Expr.Name(Stmt.Capture.CAPTURED)));
                endTag();
                List<Stmt> fb = subparse(Set.of("endfilter"));
                closing();
                return new Stmt.Capture(null, f, fb, line);
            case "print":
                Expr e = parseTuple(true, false, null);
                endTag();
                return new Stmt.Output(e, line);
            default:
                if (UNSUPPORTED.contains(name.value())) {
                    throw error("the '" + name.value() + "' tag is not supported in chat templates", name);
                }
                throw error("Encountered unknown tag '" + name.value() + "'.", name);
        }
    }

    private Stmt parseIf(int line) {
        List<Expr> tests = new ArrayList<>();
        List<List<Stmt>> bodies = new ArrayList<>();
        List<Stmt> orElse = List.of();
        tests.add(parseTuple(false, false, null));
        endTag();
        while (true) {
            bodies.add(subparse(Set.of("elif", "else", "endif")));
            String tag = next().value();
            if (tag.equals("elif")) {
                tests.add(parseTuple(false, false, null));
                endTag();
            } else if (tag.equals("else")) {
                endTag();
                orElse = subparse(Set.of("endif"));
                closing();
                break;
            } else {
                endTag();
                break;
            }
        }
        return new Stmt.If(tests, bodies, orElse, line);
    }

    private Stmt.Target target() {
        List<String> names = new ArrayList<>();
        boolean parens = skipOp("(");
        boolean tuple = parens;
        names.add(expect(Type.NAME, null).value());
        while (skipOp(",")) {
            tuple = true;
            if (cur().type() != Type.NAME) {
                break;
            }
            names.add(expect(Type.NAME, null).value());
        }
        if (parens) {
            expect(Type.OPERATOR, ")");
        }
        for (String n : names) {
            if (Set.of("true", "false", "none", "True", "False", "None").contains(n)) {
                throw error("Can't assign to constant '" + n + "'", cur());
            }
        }
        return new Stmt.Target(names, tuple);
    }

    private Stmt parseFor(int line) {
        Stmt.Target target = target();
        expect(Type.NAME, "in");
        Expr iter = parseTuple(false, false, "recursive");
        Expr filter = null;
        if (cur().isName("if")) {
            pos++;
            filter = parseExpression();
        }
        if (cur().isName("recursive")) {
            throw error("recursive for loops are not supported in chat templates", cur());
        }
        endTag();
        loops++;
        List<Stmt> body = subparse(Set.of("endfor", "else"));
        loops--;
        List<Stmt> orElse = List.of();
        if (closing().equals("else")) {
            orElse = subparse(Set.of("endfor"));
            closing();
        }
        return new Stmt.For(target, iter, filter, body, orElse, line);
    }

    private Stmt parseSet(int line) {
        if (cur().type() == Type.NAME && peek().isOp(".")) {
            String ns = next().value();
            pos++;
            String attr = expect(Type.NAME, null).value();
            expect(Type.OPERATOR, "=");
            Expr value = parseTuple(true, false, null);
            endTag();
            return new Stmt.SetAttr(ns, attr, value, line);
        }
        Stmt.Target target = target();
        if (skipOp("=")) {
            Expr value = parseTuple(true, false, null);
            endTag();
            return new Stmt.Set(target, value, line);
        }
        Expr filter = cur().isOp("|") ? parseFilterExpr(new Expr.Name(Stmt.Capture.CAPTURED)) : null;
        endTag();
        List<Stmt> body = subparse(Set.of("endset"));
        closing();
        return new Stmt.Capture(target, filter, body, line);
    }

    private Stmt parseMacro(int line) {
        String name = expect(Type.NAME, null).value();
        List<String> params = new ArrayList<>();
        List<Expr> defaults = new ArrayList<>();
        expect(Type.OPERATOR, "(");
        while (!cur().isOp(")")) {
            if (!params.isEmpty()) {
                expect(Type.OPERATOR, ",");
            }
            Token p = expect(Type.NAME, null);
            params.add(p.value());
            if (skipOp("=")) {
                defaults.add(parseExpression());
            } else if (!defaults.isEmpty()) {
                throw error("non-default argument follows default argument", p);
            }
        }
        expect(Type.OPERATOR, ")");
        endTag();
        int outer = loops;
        loops = 0;
        List<Stmt> body = subparse(Set.of("endmacro"));
        loops = outer;
        closing();
        return new Stmt.MacroDef(name, params, defaults, body, line);
    }

    private Stmt parseWith(int line) {
        List<Stmt.Target> targets = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        while (cur().type() != Type.BLOCK_END) {
            if (!targets.isEmpty()) {
                expect(Type.OPERATOR, ",");
            }
            targets.add(target());
            expect(Type.OPERATOR, "=");
            values.add(parseExpression());
        }
        endTag();
        List<Stmt> body = subparse(Set.of("endwith"));
        closing();
        return new Stmt.Block(targets, values, body, line);
    }
}
