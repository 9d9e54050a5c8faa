package dev.fraiseql.observers.internal.condition;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.internal.DidYouMean;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Compiles the condition language of {@code fraiseql.toml} ({@code condition = "status == 'published'"})
 * to an immutable AST, once, at load. Evaluation ({@link Condition#test}) walks that AST: no reflection,
 * no method calls, no allocation beyond number normalisation, and it never throws.
 *
 * <h2>Grammar</h2>
 *
 * <pre>
 * condition  := or
 * or         := and (("OR" | "||") and)*
 * and        := not (("AND" | "&amp;&amp;") not)*
 * not        := ("NOT" | "!") not | comparison
 * comparison := operand (("==" | "=" | "!=" | "&lt;&gt;" | "&lt;" | "&lt;=" | "&gt;" | "&gt;=") operand)?
 * operand    := "(" or ")" | literal | path | function
 * literal    := 'single' | "double" | number | true | false | null
 * function   := name "(" argument ("," literal)? ")"
 * </pre>
 *
 * <ul>
 *   <li>Keywords ({@code AND OR NOT true false null}) and function names are case-insensitive.
 *       {@code NOT} binds tighter than {@code AND}, which binds tighter than {@code OR};
 *       {@code NOT a == b} means {@code NOT (a == b)}. Comparisons do not chain ({@code a == b == c} is
 *       an error: use {@code AND}).
 *   <li>Strings: {@code 'single'} or {@code "double"} quoted; escapes {@code \\ \' \" \n \r \t \/ &#92;uHHHH} (four hex digits).
 *       Numbers: {@code 42}, {@code -7}, {@code 100.00}, {@code 1.5e3}.
 *   <li>A condition, and each operand of AND/OR/NOT, must be a boolean: a comparison, a function, a
 *       field (true only when its value is the boolean {@code true}) or {@code true}/{@code false}.
 *       A string, number or null literal there is a syntax error.
 * </ul>
 *
 * <h2>Field paths</h2>
 *
 * A path is {@code name(.name)*}; a name is letters, digits and {@code _}; a numeric name indexes
 * a list ({@code items.0.sku}). The first name decides what is read:
 *
 * <table>
 *   <caption>Roots of a field path</caption>
 *   <tr><th>path</th><th>reads</th></tr>
 *   <tr><td>{@code status}, {@code customer.country}</td><td>the current row: the new row, or the old row for DELETE</td></tr>
 *   <tr><td>{@code data.status}</td><td>the same as {@code status}; use it for a row field named like a root
 *     ({@code data.new}, {@code data.table})</td></tr>
 *   <tr><td>{@code new.status}, {@code old.status}</td><td>the new / old row (absent for DELETE / INSERT: null)</td></tr>
 *   <tr><td>{@code new}, {@code old}, {@code data}</td><td>the row itself ({@code old == null} is true for INSERT)</td></tr>
 *   <tr><td>{@code context.user_id}, {@code context.tenant_id}, {@code context.request_id},
 *     {@code context.mutation}, {@code context.event_name}</td><td>the mutation context</td></tr>
 *   <tr><td>{@code context.attributes.x}, {@code context.x}</td><td>the context attribute {@code x}
 *     (the names above win over an attribute of the same name)</td></tr>
 *   <tr><td>{@code event}, {@code table}, {@code operation}</td><td>the event name ({@code user.created}),
 *     the table ({@code tb_user}), the operation ({@code INSERT}, {@code UPDATE}, {@code DELETE})</td></tr>
 * </table>
 *
 * Precedence: {@code new}, {@code old}, {@code data} and {@code context} as the first name, and
 * {@code event}, {@code table}, {@code operation} as a whole path, are always these roots, never row
 * fields. A row field literally called {@code new} is {@code data.new} (current row) or
 * {@code new.new} / {@code old.new}.
 *
 * <h2>Functions</h2>
 *
 * The argument {@code f} is a row field: a path ({@code CHANGED(status)}) or the same path quoted
 * ({@code field_changed('status')}); {@code data.} in front is allowed. An absent row counts as a row
 * whose fields are all null, so:
 *
 * <table>
 *   <caption>Functions</caption>
 *   <tr><th>function</th><th>true when</th></tr>
 *   <tr><td>{@code CHANGED(f)}, {@code field_changed('f')}</td><td>{@code old.f} and {@code new.f} differ
 *     (by the equality below). UPDATE: the value changed. INSERT: {@code new.f} is not null. DELETE:
 *     {@code old.f} is not null. An UPDATE sent without an old row counts every non-null field as changed.</td></tr>
 *   <tr><td>{@code CHANGED_TO(f, v)}, {@code changed_to('f', v)}</td><td>{@code CHANGED(f)} and {@code new.f == v}</td></tr>
 *   <tr><td>{@code CHANGED_FROM(f, v)}, {@code changed_from('f', v)}</td><td>{@code CHANGED(f)} and {@code old.f == v}</td></tr>
 *   <tr><td>{@code HAS_FIELD(f)}, {@code has_field('f')}</td><td>the current row has the field, even with a
 *     null value; {@code HAS_FIELD(new.f)} / {@code HAS_FIELD(old.f)} ask a specific row</td></tr>
 * </table>
 *
 * {@code v} is a literal. Any other name followed by {@code (} is an error naming the closest function;
 * {@code a.b(...)} (a method call) is an error.
 *
 * <h2>Comparison and missing fields</h2>
 *
 * <ul>
 *   <li>Numbers compare numerically, whatever their type: {@code 100.00 == 100} is true.
 *   <li>Strings compare by {@code equals}; {@code <} etc. compare them lexicographically (UTF-16 code
 *       units, case-sensitive).
 *   <li>Booleans, objects and lists compare only with {@code ==} / {@code !=} (deeply, numbers
 *       numerically).
 *   <li>Mixed types ({@code '5' == 5}): {@code ==} is false, {@code !=} true, {@code < <= > >=} false.
 *   <li>A missing field, a missing row and a JSON null are all {@code null}: {@code x == null} is true,
 *       {@code x != null} false, {@code x == 'a'} false, {@code x != 'a'} true, {@code x > 1},
 *       {@code x <= 1} (every ordering) false, {@code x} alone false, {@code NOT x} true. So
 *       {@code NOT (x > 1)} is not the same as {@code x <= 1} when {@code x} may be missing.
 *   <li>{@code !=} is always exactly {@code NOT ==}.
 * </ul>
 *
 * <h2>Limits</h2>
 *
 * At most {@value #MAX_LENGTH} characters, {@value #MAX_TOKENS} tokens and {@value #MAX_DEPTH} levels of
 * nesting (parentheses, NOT, functions). Breaking one is a {@link ConditionSyntaxException} with the
 * position where the limit was crossed.
 */
public final class ConditionCompiler {
  /** Longest condition accepted, in characters. */
  public static final int MAX_LENGTH = 4096;
  /** Deepest nesting of parentheses, NOT and function calls. */
  public static final int MAX_DEPTH = 64;
  /** Most tokens in one condition. */
  public static final int MAX_TOKENS = 1024;

  private static final List<String> FUNCTIONS = List.of("CHANGED", "CHANGED_TO", "CHANGED_FROM", "HAS_FIELD",
      "field_changed", "changed_to", "changed_from", "has_field");

  private ConditionCompiler() {}

  /**
   * Compiles {@code source}.
   *
   * @throws ConditionSyntaxException with the 0-based position of the error
   */
  public static Condition compile(String source) {
    if (source == null) {
      throw new ConditionSyntaxException("a condition must not be null", 0);
    }
    if (source.length() > MAX_LENGTH) {
      throw new ConditionSyntaxException("condition is too long: " + source.length() + " characters, at most "
          + MAX_LENGTH + " allowed", MAX_LENGTH, "split the logic over several handlers or simplify it");
    }
    List<Token> tokens = new Lexer(source).tokens();
    Parser parser = new Parser(tokens);
    Node root = parser.parseCondition();
    return new Compiled(source, root);
  }

  /**
   * Compiles a lone field path ({@code customer_id}, {@code new.customer_id}, {@code context.tenant_id},
   * {@code table}) with the roots and rules of a condition's paths; the function returns the value, or
   * null when anything along the path is missing. Used by {@code ordering_key}.
   *
   * @throws ConditionSyntaxException with the 0-based position of the error
   */
  public static java.util.function.Function<ObservedEvent, Object> path(String source) {
    if (source == null || source.isBlank()) {
      throw new ConditionSyntaxException("a field path must not be empty", 0, "write a path such as customer_id");
    }
    if (source.length() > MAX_LENGTH) {
      throw new ConditionSyntaxException("field path is too long", MAX_LENGTH, "write a path such as customer_id");
    }
    List<Token> tokens = new Lexer(source).tokens();
    Token t = tokens.get(0);
    if (t.type != T.PATH || tokens.get(1).type != T.EOF) {
      Token bad = t.type != T.PATH ? t : tokens.get(1);
      throw new ConditionSyntaxException("expected one field path", bad.pos,
          "write a path such as customer_id, new.customer_id or context.tenant_id (no operators, quotes or functions)");
    }
    Field f = new Parser(tokens).field(t.text, t.pos, false);
    return f::eval;
  }

  // ---------------------------------------------------------------------------------------------
  // Lexer

  private enum T {
    LPAREN, RPAREN, COMMA, EQ, NE, LT, LE, GT, GE, AND, OR, NOT, STRING, NUMBER, TRUE, FALSE, NULL, PATH, EOF
  }

  private static final class Token {
    final T type;
    final int pos;
    final String text;
    final Object value;

    Token(T type, int pos, String text, Object value) {
      this.type = type;
      this.pos = pos;
      this.text = text;
      this.value = value;
    }

    String describe() {
      switch (type) {
        case EOF:
          return "the end of the condition";
        case STRING:
          return "a string";
        case NUMBER:
          return "the number " + text;
        default:
          return "`" + text + "`";
      }
    }
  }

  private static final class Lexer {
    private final String s;
    private int i;
    private final List<Token> out = new ArrayList<>();

    Lexer(String s) {
      this.s = s;
    }

    List<Token> tokens() {
      while (true) {
        skipSpace();
        if (i >= s.length()) {
          out.add(new Token(T.EOF, s.length(), "", null));
          return out;
        }
        if (out.size() >= MAX_TOKENS) {
          throw new ConditionSyntaxException("condition has too many tokens: at most " + MAX_TOKENS
              + " allowed", i, "split the logic over several handlers or simplify it");
        }
        int start = i;
        char c = s.charAt(i);
        switch (c) {
          case '(':
            add(T.LPAREN, start, 1);
            break;
          case ')':
            add(T.RPAREN, start, 1);
            break;
          case ',':
            add(T.COMMA, start, 1);
            break;
          case '=':
            add(T.EQ, start, peek(1) == '=' ? 2 : 1);
            break;
          case '!':
            if (peek(1) == '=') {
              add(T.NE, start, 2);
            } else {
              add(T.NOT, start, 1);
            }
            break;
          case '<':
            if (peek(1) == '=') {
              add(T.LE, start, 2);
            } else if (peek(1) == '>') {
              add(T.NE, start, 2);
            } else {
              add(T.LT, start, 1);
            }
            break;
          case '>':
            add(peek(1) == '=' ? T.GE : T.GT, start, peek(1) == '=' ? 2 : 1);
            break;
          case '&':
            if (peek(1) != '&') {
              throw new ConditionSyntaxException("unexpected `&`", start, "write `&&` or AND");
            }
            add(T.AND, start, 2);
            break;
          case '|':
            if (peek(1) != '|') {
              throw new ConditionSyntaxException("unexpected `|`", start, "write `||` or OR");
            }
            add(T.OR, start, 2);
            break;
          case '\'':
          case '"':
            string(c);
            break;
          default:
            if (isDigit(c) || ((c == '-' || c == '.') && isDigit(peek(1)))
                || (c == '-' && peek(1) == '.' && isDigit(peek(2)))) {
              number();
            } else if (isIdentStart(c)) {
              path();
            } else {
              throw new ConditionSyntaxException("unexpected character `" + printable(c) + "`", start,
                  "conditions use field paths, literals, comparisons (== != < <= > >=), AND, OR, NOT and parentheses");
            }
        }
      }
    }

    private void add(T type, int start, int len) {
      out.add(new Token(type, start, s.substring(start, start + len), null));
      i = start + len;
    }

    private char peek(int ahead) {
      int j = i + ahead;
      return j < s.length() ? s.charAt(j) : '\0';
    }

    private void skipSpace() {
      while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
        i++;
      }
    }

    private void string(char quote) {
      int start = i;
      i++;
      StringBuilder b = new StringBuilder();
      while (true) {
        if (i >= s.length()) {
          throw new ConditionSyntaxException("string is not closed", start, "end it with " + quote);
        }
        char c = s.charAt(i);
        if (c == quote) {
          i++;
          break;
        }
        if (c == '\\') {
          if (i + 1 >= s.length()) {
            throw new ConditionSyntaxException("string is not closed", start, "end it with " + quote);
          }
          char e = s.charAt(i + 1);
          switch (e) {
            case '\\':
            case '\'':
            case '"':
            case '/':
              b.append(e);
              i += 2;
              break;
            case 'n':
              b.append('\n');
              i += 2;
              break;
            case 'r':
              b.append('\r');
              i += 2;
              break;
            case 't':
              b.append('\t');
              i += 2;
              break;
            case 'u':
              if (i + 6 > s.length() || !isHex(s, i + 2, i + 6)) {
                throw new ConditionSyntaxException("bad unicode escape", i, "write \\u followed by 4 hex digits");
              }
              b.append((char) Integer.parseInt(s.substring(i + 2, i + 6), 16));
              i += 6;
              break;
            default:
              throw new ConditionSyntaxException("unknown escape `\\" + printable(e) + "` in a string", i,
                  "escapes are \\\\ \\' \\\" \\n \\r \\t \\uHHHH");
          }
          continue;
        }
        b.append(c);
        i++;
      }
      out.add(new Token(T.STRING, start, s.substring(start, i), b.toString()));
    }

    private void number() {
      int start = i;
      if (s.charAt(i) == '-') {
        i++;
      }
      while (i < s.length() && isDigit(s.charAt(i))) {
        i++;
      }
      if (i < s.length() && s.charAt(i) == '.' && isDigit(peek(1))) {
        i++;
        while (i < s.length() && isDigit(s.charAt(i))) {
          i++;
        }
      }
      if (i < s.length() && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
        int j = i + 1;
        if (j < s.length() && (s.charAt(j) == '+' || s.charAt(j) == '-')) {
          j++;
        }
        if (j < s.length() && isDigit(s.charAt(j))) {
          i = j;
          while (i < s.length() && isDigit(s.charAt(i))) {
            i++;
          }
        }
      }
      if (i < s.length() && (isIdentPart(s.charAt(i)) || s.charAt(i) == '.')) {
        throw new ConditionSyntaxException("malformed number `" + s.substring(start, Math.min(s.length(), i + 1))
            + "`", start, "a number is written like 42, -7, 100.00 or 1.5e3; field names start with a letter or _");
      }
      String text = s.substring(start, i);
      BigDecimal value;
      try {
        value = new BigDecimal(text);
      } catch (NumberFormatException | ArithmeticException e) {
        throw new ConditionSyntaxException("malformed number `" + text + "`", start, null);
      }
      if (Math.abs((long) value.scale()) > 1000) {
        throw new ConditionSyntaxException("number `" + text + "` is out of range", start, null);
      }
      out.add(new Token(T.NUMBER, start, text, value));
    }

    private void path() {
      int start = i;
      while (i < s.length() && isIdentPart(s.charAt(i))) {
        i++;
      }
      while (i < s.length() && s.charAt(i) == '.') {
        if (i + 1 < s.length() && isIdentPart(s.charAt(i + 1))) {
          i++;
          while (i < s.length() && isIdentPart(s.charAt(i))) {
            i++;
          }
        } else {
          throw new ConditionSyntaxException("field path `" + s.substring(start, i + 1) + "` ends with `.`", i,
              "write a field name after the dot");
        }
      }
      String text = s.substring(start, i);
      T type = T.PATH;
      switch (text.toLowerCase(Locale.ROOT)) {
        case "and":
          type = T.AND;
          break;
        case "or":
          type = T.OR;
          break;
        case "not":
          type = T.NOT;
          break;
        case "true":
          type = T.TRUE;
          break;
        case "false":
          type = T.FALSE;
          break;
        case "null":
          type = T.NULL;
          break;
        default:
          break;
      }
      out.add(new Token(type, start, text, null));
    }
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private static boolean isIdentStart(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  }

  private static boolean isIdentPart(char c) {
    return isIdentStart(c) || isDigit(c);
  }

  private static boolean isHex(String s, int from, int to) {
    for (int k = from; k < to; k++) {
      if (Character.digit(s.charAt(k), 16) < 0) {
        return false;
      }
    }
    return true;
  }

  private static String printable(char c) {
    return c < 0x20 || c == 0x7f || Character.isISOControl(c) ? String.format("\\u%04x", (int) c) : String.valueOf(c);
  }

  // ---------------------------------------------------------------------------------------------
  // Parser

  private static final class Parser {
    private final List<Token> tokens;
    private int p;
    private int depth;

    Parser(List<Token> tokens) {
      this.tokens = tokens;
    }

    private Token peek() {
      return tokens.get(p);
    }

    private Token next() {
      return tokens.get(p++);
    }

    Node parseCondition() {
      if (peek().type == T.EOF) {
        throw new ConditionSyntaxException("condition is empty", 0,
            "write a condition such as status == 'published', or remove the key");
      }
      Node n = parseOr();
      Token t = peek();
      if (t.type != T.EOF) {
        if (t.type == T.RPAREN) {
          throw new ConditionSyntaxException("unbalanced `)`", t.pos, "remove it or add the matching `(`");
        }
        throw new ConditionSyntaxException("unexpected " + t.describe() + " after a complete condition", t.pos,
            "join conditions with AND or OR");
      }
      requireBoolean(n);
      return n;
    }

    private void enter(Token at) {
      if (++depth > MAX_DEPTH) {
        throw new ConditionSyntaxException("condition is nested too deeply: at most " + MAX_DEPTH + " levels",
            at.pos, "simplify it");
      }
    }

    private Node parseOr() {
      Node first = parseAnd();
      if (peek().type != T.OR) {
        return first;
      }
      List<Node> parts = new ArrayList<>();
      parts.add(requireBoolean(first));
      while (peek().type == T.OR) {
        next();
        parts.add(requireBoolean(parseAnd()));
      }
      return new Or(parts.toArray(new Node[0]));
    }

    private Node parseAnd() {
      Node first = parseNot();
      if (peek().type != T.AND) {
        return first;
      }
      List<Node> parts = new ArrayList<>();
      parts.add(requireBoolean(first));
      while (peek().type == T.AND) {
        next();
        parts.add(requireBoolean(parseNot()));
      }
      return new And(parts.toArray(new Node[0]));
    }

    private Node parseNot() {
      Token t = peek();
      if (t.type == T.NOT) {
        next();
        enter(t);
        Node inner = requireBoolean(parseNot());
        depth--;
        return new Not(inner);
      }
      return parseComparison();
    }

    private Node parseComparison() {
      Node left = parseOperand();
      Token op = peek();
      Cmp cmp = cmpOf(op.type);
      if (cmp == null) {
        return left;
      }
      next();
      Node right = parseOperand();
      Token after = peek();
      if (cmpOf(after.type) != null) {
        throw new ConditionSyntaxException("comparisons do not chain", after.pos,
            "join them with AND: a == b AND b == c");
      }
      return new Compare(cmp, left, right);
    }

    private static Cmp cmpOf(T t) {
      switch (t) {
        case EQ:
          return Cmp.EQ;
        case NE:
          return Cmp.NE;
        case LT:
          return Cmp.LT;
        case LE:
          return Cmp.LE;
        case GT:
          return Cmp.GT;
        case GE:
          return Cmp.GE;
        default:
          return null;
      }
    }

    private Node parseOperand() {
      Token t = next();
      switch (t.type) {
        case LPAREN: {
          enter(t);
          Node inner = parseOr();
          Token close = next();
          if (close.type != T.RPAREN) {
            throw new ConditionSyntaxException("expected `)` to close the `(` at position " + t.pos + ", found "
                + close.describe(), close.pos, null);
          }
          depth--;
          return new Group(inner);
        }
        case STRING:
          return new Literal(t.value, t.pos, "a string");
        case NUMBER:
          return new Literal(t.value, t.pos, "a number");
        case TRUE:
          return new Literal(Boolean.TRUE, t.pos, null);
        case FALSE:
          return new Literal(Boolean.FALSE, t.pos, null);
        case NULL:
          return new Literal(null, t.pos, "null");
        case PATH:
          if (peek().type == T.LPAREN) {
            return parseFunction(t);
          }
          return field(t.text, t.pos, false);
        case EOF:
          throw new ConditionSyntaxException("condition ends too early: expected a value", t.pos,
              "finish the condition, e.g. status == 'published'");
        default:
          throw new ConditionSyntaxException("expected a value, found " + t.describe(), t.pos,
              "a value is a field path, a 'string', a number, true, false, null or a function such as CHANGED(f)");
      }
    }

    private Node parseFunction(Token name) {
      String lower = name.text.toLowerCase(Locale.ROOT);
      Fn fn;
      switch (lower) {
        case "changed":
        case "field_changed":
          fn = Fn.CHANGED;
          break;
        case "changed_to":
          fn = Fn.CHANGED_TO;
          break;
        case "changed_from":
          fn = Fn.CHANGED_FROM;
          break;
        case "has_field":
          fn = Fn.HAS_FIELD;
          break;
        default:
          if (name.text.indexOf('.') >= 0) {
            throw new ConditionSyntaxException("method calls are not allowed: `" + name.text + "(`", name.pos,
                "the only functions are CHANGED, CHANGED_TO, CHANGED_FROM and HAS_FIELD");
          }
          throw new ConditionSyntaxException("unknown function `" + name.text + "`", name.pos,
              DidYouMean.closest(name.text, FUNCTIONS).map(c -> "did you mean `" + c + "`?")
                  .orElse("the functions are CHANGED(f), CHANGED_TO(f, v), CHANGED_FROM(f, v) and HAS_FIELD(f)"));
      }
      Token open = next();
      enter(open);
      Token arg = next();
      Field field;
      if (arg.type == T.PATH) {
        field = field(arg.text, arg.pos, true);
      } else if (arg.type == T.STRING) {
        String path = (String) arg.value;
        if (!validQuotedPath(path)) {
          throw new ConditionSyntaxException("`" + arg.text + "` is not a field path", arg.pos,
              "write the field as 'name' or 'parent.child'");
        }
        field = field(path, arg.pos, true);
      } else {
        throw new ConditionSyntaxException(name.text + " expects a field, found " + arg.describe(), arg.pos,
            "write " + name.text + "(status) or " + name.text + "('status')");
      }
      if (fn != Fn.HAS_FIELD && field.root != Root.CURRENT) {
        throw new ConditionSyntaxException(name.text + " compares the old and new rows itself: give it a row field",
            arg.pos, "write " + name.text + "(" + String.join(".", field.segments) + ")");
      }
      if (fn == Fn.HAS_FIELD && field.root != Root.CURRENT && field.root != Root.NEW && field.root != Root.OLD) {
        throw new ConditionSyntaxException(name.text + " asks a row: give it a row field", arg.pos, null);
      }
      if (field.segments.length == 0) {
        throw new ConditionSyntaxException(name.text + " needs a field name, not a whole row", arg.pos,
            "write " + name.text + "(status)");
      }
      Object value = null;
      if (fn == Fn.CHANGED_TO || fn == Fn.CHANGED_FROM) {
        Token comma = next();
        if (comma.type != T.COMMA) {
          throw new ConditionSyntaxException(name.text + " takes two arguments: a field and a value; expected `,`, found "
              + comma.describe(), comma.pos, "write " + name.text + "(status, 'published')");
        }
        Token v = next();
        switch (v.type) {
          case STRING:
          case NUMBER:
            value = v.value;
            break;
          case TRUE:
            value = Boolean.TRUE;
            break;
          case FALSE:
            value = Boolean.FALSE;
            break;
          case NULL:
            value = null;
            break;
          default:
            throw new ConditionSyntaxException(name.text + " expects a literal value as its second argument, found "
                + v.describe(), v.pos, "write a 'string', a number, true, false or null");
        }
      }
      Token close = next();
      if (close.type != T.RPAREN) {
        String hint = close.type == T.COMMA ? name.text + " takes " + (fn == Fn.CHANGED_TO || fn == Fn.CHANGED_FROM
            ? "two arguments" : "one argument") : null;
        throw new ConditionSyntaxException("expected `)` to close " + name.text + "(, found " + close.describe(),
            close.pos, hint);
      }
      depth--;
      return new Function(fn, field, value == null ? null : Values.norm(value));
    }

    private static boolean validQuotedPath(String path) {
      if (path.isEmpty() || path.length() > 512) {
        return false;
      }
      for (String seg : path.split("\\.", -1)) {
        if (seg.isEmpty()) {
          return false;
        }
      }
      return true;
    }

    private Field field(String text, int pos, boolean functionArgument) {
      String[] parts = text.split("\\.", -1);
      String first = parts[0];
      switch (first) {
        case "new":
          return new Field(Root.NEW, tail(parts));
        case "old":
          return new Field(Root.OLD, tail(parts));
        case "data":
          return new Field(Root.CURRENT, tail(parts));
        case "context":
          if (parts.length == 1 || functionArgument) {
            throw new ConditionSyntaxException(functionArgument ? "the functions take a row field, not `" + text + "`"
                : "`context` needs a field", pos,
                "write context.user_id, context.tenant_id, context.request_id or context.<attribute>");
          }
          return new Field(Root.CONTEXT, tail(parts));
        case "event":
        case "table":
        case "operation":
          if (!functionArgument) {
            if (parts.length > 1) {
              throw new ConditionSyntaxException("`" + first + "` is the event's " + (first.equals("event") ? "name"
                  : first) + " and has no fields", pos, "to read a row field named " + first + ", write data." + text);
            }
            return new Field(first.equals("event") ? Root.EVENT : first.equals("table") ? Root.TABLE : Root.OPERATION,
                new String[0]);
          }
          return new Field(Root.CURRENT, parts);
        default:
          return new Field(Root.CURRENT, parts);
      }
    }

    private static String[] tail(String[] parts) {
      String[] t = new String[parts.length - 1];
      System.arraycopy(parts, 1, t, 0, t.length);
      return t;
    }

    private Node requireBoolean(Node n) {
      Node inner = n;
      while (inner instanceof Group) {
        inner = ((Group) inner).inner;
      }
      if (inner instanceof Literal && ((Literal) inner).kind != null) {
        Literal l = (Literal) inner;
        throw new ConditionSyntaxException(l.kind + " is not a condition", l.pos,
            "compare it with a field, e.g. status == " + (l.kind.equals("a number") ? "42" : "'published'"));
      }
      return n;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // AST

  private interface Node {
    Object eval(ObservedEvent e);
  }

  private enum Cmp {
    EQ, NE, LT, LE, GT, GE
  }

  private enum Fn {
    CHANGED, CHANGED_TO, CHANGED_FROM, HAS_FIELD
  }

  private enum Root {
    CURRENT, NEW, OLD, CONTEXT, EVENT, TABLE, OPERATION
  }

  private static final class Compiled implements Condition {
    private final String source;
    private final Node root;

    Compiled(String source, Node root) {
      this.source = source;
      this.root = root;
    }

    @Override
    public boolean test(ObservedEvent event) {
      if (event == null) {
        return false;
      }
      try {
        return root.eval(event) == Boolean.TRUE;
      } catch (RuntimeException | StackOverflowError ex) {
        return false;
      }
    }

    @Override
    public String toString() {
      return "Condition[" + source + "]";
    }
  }

  private static final class Literal implements Node {
    final Object value;
    final int pos;
    final String kind;

    Literal(Object value, int pos, String kind) {
      this.value = Values.norm(value);
      this.pos = pos;
      this.kind = kind;
    }

    @Override
    public Object eval(ObservedEvent e) {
      return value;
    }
  }

  private static final class Group implements Node {
    final Node inner;

    Group(Node inner) {
      this.inner = inner;
    }

    @Override
    public Object eval(ObservedEvent e) {
      return inner.eval(e);
    }
  }

  private static final class And implements Node {
    final Node[] parts;

    And(Node[] parts) {
      this.parts = parts;
    }

    @Override
    public Object eval(ObservedEvent e) {
      for (Node n : parts) {
        if (n.eval(e) != Boolean.TRUE) {
          return Boolean.FALSE;
        }
      }
      return Boolean.TRUE;
    }
  }

  private static final class Or implements Node {
    final Node[] parts;

    Or(Node[] parts) {
      this.parts = parts;
    }

    @Override
    public Object eval(ObservedEvent e) {
      for (Node n : parts) {
        if (n.eval(e) == Boolean.TRUE) {
          return Boolean.TRUE;
        }
      }
      return Boolean.FALSE;
    }
  }

  private static final class Not implements Node {
    final Node inner;

    Not(Node inner) {
      this.inner = inner;
    }

    @Override
    public Object eval(ObservedEvent e) {
      return inner.eval(e) == Boolean.TRUE ? Boolean.FALSE : Boolean.TRUE;
    }
  }

  private static final class Compare implements Node {
    final Cmp op;
    final Node left;
    final Node right;
    /** When the right side is a text or number literal: its value, for a fast path without normalising. */
    private final String literalText;
    private final BigDecimal literalNumber;
    private final boolean literalIsLong;
    private final long literalLong;

    Compare(Cmp op, Node left, Node right) {
      this.op = op;
      this.left = left;
      this.right = right;
      Object lit = right instanceof Literal ? ((Literal) right).value : null;
      this.literalText = lit instanceof String ? (String) lit : null;
      this.literalNumber = lit instanceof BigDecimal ? (BigDecimal) lit : null;
      long asLong = 0;
      boolean isLong = false;
      if (literalNumber != null) {
        try {
          asLong = literalNumber.longValueExact();
          isLong = true;
        } catch (ArithmeticException notIntegral) {
          // compared through BigDecimal
        }
      }
      this.literalIsLong = isLong;
      this.literalLong = asLong;
    }

    @Override
    public Object eval(ObservedEvent e) {
      if (literalText != null || literalNumber != null) {
        Object l = left.eval(e);
        if (literalText != null && l instanceof String) {
          String a = (String) l;
          if (op == Cmp.EQ) {
            return a.equals(literalText);
          }
          if (op == Cmp.NE) {
            return !a.equals(literalText);
          }
          return ordered(Integer.signum(a.compareTo(literalText)));
        }
        if (literalNumber != null) {
          if (literalIsLong && (l instanceof Integer || l instanceof Long || l instanceof Short || l instanceof Byte)) {
            return ordered(Long.compare(((Number) l).longValue(), literalLong));
          }
          if (l instanceof BigDecimal) {
            return ordered(((BigDecimal) l).compareTo(literalNumber));
          }
        }
        return compare(Values.norm(l), literalText != null ? literalText : literalNumber);
      }
      return compare(Values.norm(left.eval(e)), Values.norm(right.eval(e)));
    }

    /** The comparison's answer given the order of two values of one type. */
    private Boolean ordered(int c) {
      switch (op) {
        case EQ:
          return c == 0;
        case NE:
          return c != 0;
        case LT:
          return c < 0;
        case LE:
          return c <= 0;
        case GT:
          return c > 0;
        default:
          return c >= 0;
      }
    }

    private Boolean compare(Object l, Object r) {
      switch (op) {
        case EQ:
          return Values.equal(l, r);
        case NE:
          return !Values.equal(l, r);
        default:
          Integer c = Values.order(l, r);
          return c == null ? Boolean.FALSE : ordered(c);
      }
    }
  }

  /** A field path; evaluates to the value, or null when anything along the path is missing. */
  private static final class Field implements Node {
    final Root root;
    final String[] segments;

    Field(Root root, String[] segments) {
      this.root = root;
      this.segments = segments;
    }

    @Override
    public Object eval(ObservedEvent e) {
      Object v = Values.MISSING;
      switch (root) {
        case EVENT:
          return e.name();
        case TABLE:
          return e.table();
        case OPERATION:
          return e.operation().name();
        case CONTEXT:
          return Values.orNull(context(e));
        default:
          v = Values.lookup(row(e, root), segments, 0);
          return Values.orNull(v);
      }
    }

    /** Whether the path exists in the row (a null value counts as present). */
    boolean present(ObservedEvent e) {
      return Values.lookup(row(e, root), segments, 0) != Values.MISSING;
    }

    private Object context(ObservedEvent e) {
      String first = segments[0];
      switch (first) {
        case "user_id":
          return segments.length == 1 ? e.context().userId().orElse(null) : Values.MISSING;
        case "tenant_id":
          return segments.length == 1 ? e.context().tenantId().orElse(null) : Values.MISSING;
        case "request_id":
          return segments.length == 1 ? e.context().requestId().orElse(null) : Values.MISSING;
        case "mutation":
          return segments.length == 1 ? e.mutation().orElse(null) : Values.MISSING;
        case "event_name":
          return segments.length == 1 ? e.name() : Values.MISSING;
        case "attributes":
          return Values.lookup(e.context().attributes(), segments, 1);
        default:
          return Values.lookup(e.context().attributes(), segments, 0);
      }
    }
  }

  private static Map<String, Object> row(ObservedEvent e, Root root) {
    switch (root) {
      case NEW:
        return e.newRow().orElse(null);
      case OLD:
        return e.oldRow().orElse(null);
      default:
        return current(e);
    }
  }

  private static Map<String, Object> current(ObservedEvent e) {
    return e.newRow().isPresent() ? e.newRow().get() : e.oldRow().orElse(null);
  }

  private static final class Function implements Node {
    final Fn fn;
    final Field field;
    final Object value;

    Function(Fn fn, Field field, Object value) {
      this.fn = fn;
      this.field = field;
      this.value = value;
    }

    @Override
    public Object eval(ObservedEvent e) {
      if (fn == Fn.HAS_FIELD) {
        return field.present(e);
      }
      Object before = Values.norm(Values.orNull(Values.lookup(e.oldRow().orElse(null), field.segments, 0)));
      Object after = Values.norm(Values.orNull(Values.lookup(e.newRow().orElse(null), field.segments, 0)));
      if (Values.equal(before, after)) {
        return Boolean.FALSE;
      }
      switch (fn) {
        case CHANGED_TO:
          return Values.equal(after, value);
        case CHANGED_FROM:
          return Values.equal(before, value);
        default:
          return Boolean.TRUE;
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Values

  /** Normalisation, equality and ordering of JSON-like values. */
  static final class Values {
    static final Object MISSING = new Object() {
      @Override
      public String toString() {
        return "<missing>";
      }
    };

    private Values() {}

    static Object orNull(Object v) {
      return v == MISSING ? null : v;
    }

    static Object lookup(Object start, String[] segments, int from) {
      Object v = start;
      if (v == null) {
        return MISSING;
      }
      for (int k = from; k < segments.length; k++) {
        String seg = segments[k];
        if (v instanceof Map) {
          Map<?, ?> m = (Map<?, ?>) v;
          Object next = m.get(seg);
          if (next == null && !m.containsKey(seg)) {
            return MISSING;
          }
          v = next;
        } else if (v instanceof List) {
          List<?> l = (List<?>) v;
          int index = index(seg);
          if (index < 0 || index >= l.size()) {
            return MISSING;
          }
          v = l.get(index);
        } else {
          return MISSING;
        }
        if (v == null && k < segments.length - 1) {
          return MISSING;
        }
      }
      return v;
    }

    private static int index(String seg) {
      if (seg.isEmpty() || seg.length() > 9) {
        return -1;
      }
      int n = 0;
      for (int k = 0; k < seg.length(); k++) {
        char c = seg.charAt(k);
        if (c < '0' || c > '9') {
          return -1;
        }
        n = n * 10 + (c - '0');
      }
      return n;
    }

    /** Numbers become BigDecimal (Double when not finite); text-like values become String. */
    static Object norm(Object v) {
      if (v == null || v instanceof String || v instanceof Boolean || v instanceof BigDecimal) {
        return v;
      }
      if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
        return BigDecimal.valueOf(((Number) v).longValue());
      }
      if (v instanceof Double || v instanceof Float) {
        double d = ((Number) v).doubleValue();
        return Double.isFinite(d) ? new BigDecimal(Double.toString(d)) : (Object) d;
      }
      if (v instanceof BigInteger) {
        return new BigDecimal((BigInteger) v);
      }
      if (v instanceof Number) {
        try {
          return new BigDecimal(v.toString());
        } catch (NumberFormatException ex) {
          return ((Number) v).doubleValue();
        }
      }
      if (v instanceof CharSequence || v instanceof Character || v instanceof Enum || v instanceof java.util.UUID) {
        return v.toString();
      }
      return v;
    }

    static boolean equal(Object a, Object b) {
      return equal(a, b, 0);
    }

    private static boolean equal(Object a, Object b, int depth) {
      if (depth > 256) {
        return Objects.equals(a, b);
      }
      a = norm(a);
      b = norm(b);
      if (a == null || b == null) {
        return a == b;
      }
      if (a instanceof BigDecimal && b instanceof BigDecimal) {
        return ((BigDecimal) a).compareTo((BigDecimal) b) == 0;
      }
      if (a instanceof Double || b instanceof Double) {
        if (a instanceof Double && b instanceof Double) {
          return ((Double) a).equals(b) && !((Double) a).isNaN();
        }
        return false;
      }
      if (a instanceof Map && b instanceof Map) {
        Map<?, ?> x = (Map<?, ?>) a;
        Map<?, ?> y = (Map<?, ?>) b;
        if (x.size() != y.size()) {
          return false;
        }
        for (Map.Entry<?, ?> en : x.entrySet()) {
          if (!y.containsKey(en.getKey()) || !equal(en.getValue(), y.get(en.getKey()), depth + 1)) {
            return false;
          }
        }
        return true;
      }
      if (a instanceof List && b instanceof List) {
        List<?> x = (List<?>) a;
        List<?> y = (List<?>) b;
        if (x.size() != y.size()) {
          return false;
        }
        for (int k = 0; k < x.size(); k++) {
          if (!equal(x.get(k), y.get(k), depth + 1)) {
            return false;
          }
        }
        return true;
      }
      return a.equals(b);
    }

    /** The order of two values of the same orderable type, or null (numbers and strings only). */
    static Integer order(Object a, Object b) {
      if (a instanceof BigDecimal && b instanceof BigDecimal) {
        return ((BigDecimal) a).compareTo((BigDecimal) b);
      }
      if (a instanceof Number && b instanceof Number) {
        double x = ((Number) a).doubleValue();
        double y = ((Number) b).doubleValue();
        if (Double.isNaN(x) || Double.isNaN(y)) {
          return null;
        }
        return Double.compare(x, y);
      }
      if (a instanceof String && b instanceof String) {
        return Integer.signum(((String) a).compareTo((String) b));
      }
      return null;
    }
  }
}
