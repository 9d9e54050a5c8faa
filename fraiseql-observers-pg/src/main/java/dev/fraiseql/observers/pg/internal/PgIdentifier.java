package dev.fraiseql.observers.pg.internal;

import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A validated, optionally schema-qualified SQL identifier ({@code fn_reserve_inventory},
 * {@code inventory.fn_reserve}). Parts are folded to lower case as PostgreSQL folds unquoted
 * identifiers, then always double-quoted when rendered, so nothing but a plain name reaches SQL.
 */
public final class PgIdentifier {
  private static final Pattern PART = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]*");
  /** PostgreSQL's NAMEDATALEN - 1. */
  public static final int MAX_PART_LENGTH = 63;

  private final String schema;
  private final String name;

  private PgIdentifier(String schema, String name) {
    this.schema = schema;
    this.name = name;
  }

  /**
   * Parses {@code name} or {@code schema.name}.
   *
   * @throws IllegalArgumentException saying what is wrong (the text is shown: identifiers are not secrets)
   */
  public static PgIdentifier parse(String text) {
    Objects.requireNonNull(text, "identifier");
    String t = text.trim();
    String[] parts = t.split("\\.", -1);
    if (parts.length > 2) {
      throw new IllegalArgumentException("`" + text + "` is not a valid SQL name: use `name` or `schema.name`");
    }
    for (String p : parts) {
      if (!PART.matcher(p).matches()) {
        throw new IllegalArgumentException("`" + text + "` is not a valid SQL name: each part must start with a"
            + " letter or `_` and contain only letters, digits, `_` and `$`");
      }
      if (p.length() > MAX_PART_LENGTH) {
        throw new IllegalArgumentException("`" + text + "` is not a valid SQL name: a part is longer than "
            + MAX_PART_LENGTH + " characters");
      }
    }
    return parts.length == 2
        ? new PgIdentifier(parts[0].toLowerCase(Locale.ROOT), parts[1].toLowerCase(Locale.ROOT))
        : new PgIdentifier(null, parts[0].toLowerCase(Locale.ROOT));
  }

  public Optional<String> schema() {
    return Optional.ofNullable(schema);
  }

  public String name() {
    return name;
  }

  /** The quoted form for SQL: {@code "schema"."name"}. */
  public String quoted() {
    return schema == null ? quote(name) : quote(schema) + "." + quote(name);
  }

  /** A sibling object in the same schema ({@code <name><suffix>}, shortened to fit), quoted unqualified. */
  public String quotedDerivedName(String suffix) {
    String base = name;
    if (base.length() + suffix.length() > MAX_PART_LENGTH) {
      base = base.substring(0, MAX_PART_LENGTH - suffix.length());
    }
    return quote(base + suffix);
  }

  /** A sibling table in the same schema: {@code <name><suffix>}, shortened to fit. */
  public PgIdentifier sibling(String suffix) {
    String base = name;
    if (base.length() + suffix.length() > MAX_PART_LENGTH) {
      base = base.substring(0, MAX_PART_LENGTH - suffix.length());
    }
    return new PgIdentifier(schema, base + suffix);
  }

  /** A name derived from this one that fits a NOTIFY channel: {@code schema_name} or {@code name}, plus suffix. */
  public String channel(String suffix) {
    String base = (schema == null ? "" : schema + "_") + name;
    String ch = base + suffix;
    return ch.length() > MAX_PART_LENGTH ? ch.substring(0, MAX_PART_LENGTH) : ch;
  }

  static String quote(String part) {
    return '"' + part.replace("\"", "\"\"") + '"';
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PgIdentifier && Objects.equals(schema, ((PgIdentifier) o).schema)
        && name.equals(((PgIdentifier) o).name);
  }

  @Override
  public int hashCode() {
    return Objects.hash(schema, name);
  }

  /** The plain dotted form. */
  @Override
  public String toString() {
    return schema == null ? name : schema + "." + name;
  }
}
