package dev.fraiseql.observers.pg.internal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A table or column name from the capture configuration: {@code tb_user}, {@code sales.orders},
 * {@code "Sales"."Order Lines"}. Unquoted parts fold to lower case as PostgreSQL folds them and must be
 * plain names; quoted parts keep their case and may hold any character but NUL ({@code ""} for a
 * quote). Rendered always double-quoted (as {@code quote_ident} would), so no configured text is ever
 * run as SQL.
 */
public final class CaptureName {
  private static final Pattern PLAIN = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]*");

  private final String schema;
  private final String name;

  private CaptureName(String schema, String name) {
    this.schema = schema;
    this.name = name;
  }

  /**
   * Parses {@code name} or {@code schema.name}, each part plain or double-quoted.
   *
   * @throws IllegalArgumentException saying what is wrong
   */
  public static CaptureName parse(String text) {
    List<String> parts = parts(Objects.requireNonNull(text, "name"));
    if (parts.size() > 2) {
      throw new IllegalArgumentException("`" + text + "` is not a valid table name: use `name`, `schema.name`"
          + " or double-quoted parts such as `\"Sales\".\"Orders\"`");
    }
    return parts.size() == 2 ? new CaptureName(parts.get(0), parts.get(1)) : new CaptureName(null, parts.get(0));
  }

  /** Parses a single column name, plain or double-quoted. */
  public static String column(String text) {
    List<String> parts = parts(Objects.requireNonNull(text, "column"));
    if (parts.size() != 1) {
      throw new IllegalArgumentException("`" + text + "` is not a valid column name");
    }
    return parts.get(0);
  }

  private static List<String> parts(String text) {
    String t = text.trim();
    List<String> out = new ArrayList<>();
    int i = 0;
    while (true) {
      if (i >= t.length()) {
        throw new IllegalArgumentException("`" + text + "` is not a valid SQL name: a part is empty");
      }
      String part;
      if (t.charAt(i) == '"') {
        StringBuilder b = new StringBuilder();
        int j = i + 1;
        while (true) {
          if (j >= t.length()) {
            throw new IllegalArgumentException("`" + text + "` is not a valid SQL name: unterminated quote");
          }
          char ch = t.charAt(j);
          if (ch == '"') {
            if (j + 1 < t.length() && t.charAt(j + 1) == '"') {
              b.append('"');
              j += 2;
              continue;
            }
            break;
          }
          if (ch == '\0') {
            throw new IllegalArgumentException("`" + text + "` is not a valid SQL name: it contains NUL");
          }
          b.append(ch);
          j++;
        }
        part = b.toString();
        if (part.isEmpty()) {
          throw new IllegalArgumentException("`" + text + "` is not a valid SQL name: a quoted part is empty");
        }
        i = j + 1;
      } else {
        int j = t.indexOf('.', i);
        int end = j < 0 ? t.length() : j;
        String p = t.substring(i, end);
        if (!PLAIN.matcher(p).matches()) {
          throw new IllegalArgumentException("`" + text + "` is not a valid SQL name: `" + p + "` must start with a"
              + " letter or `_` and contain only letters, digits, `_` and `$` (or be double-quoted)");
        }
        part = p.toLowerCase(Locale.ROOT);
        i = end;
      }
      if (part.getBytes(StandardCharsets.UTF_8).length > PgIdentifier.MAX_PART_LENGTH) {
        throw new IllegalArgumentException("`" + text + "` is not a valid SQL name: a part is longer than "
            + PgIdentifier.MAX_PART_LENGTH + " bytes");
      }
      out.add(part);
      if (i >= t.length()) {
        return out;
      }
      if (t.charAt(i) != '.') {
        throw new IllegalArgumentException("`" + text + "` is not a valid SQL name: unexpected `" + t.charAt(i) + "`");
      }
      i++;
    }
  }

  public Optional<String> schema() {
    return Optional.ofNullable(schema);
  }

  public String name() {
    return name;
  }

  /** {@code "schema"."name"} or {@code "name"}. */
  public String quoted() {
    return schema == null ? quote(name) : quote(schema) + "." + quote(name);
  }

  /** An identifier double-quoted, inner quotes doubled. */
  public static String quote(String part) {
    return '"' + part.replace("\"", "\"\"") + '"';
  }

  /** A SQL string literal ({@code E'...'}, backslashes and quotes escaped): safe whatever the server's settings. */
  public static String literal(String text) {
    return "E'" + text.replace("\\", "\\\\").replace("'", "''") + "'";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CaptureName && Objects.equals(schema, ((CaptureName) o).schema)
        && name.equals(((CaptureName) o).name);
  }

  @Override
  public int hashCode() {
    return Objects.hash(schema, name);
  }

  @Override
  public String toString() {
    return schema == null ? quoteIfNeeded(name) : quoteIfNeeded(schema) + "." + quoteIfNeeded(name);
  }

  private static String quoteIfNeeded(String part) {
    return PLAIN.matcher(part).matches() && part.equals(part.toLowerCase(Locale.ROOT)) ? part : quote(part);
  }
}
