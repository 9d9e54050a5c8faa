package dev.fraiseql.observers.internal.config;

import dev.fraiseql.observers.config.ConfigLocation;
import dev.fraiseql.observers.config.ConfigProblem;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.internal.DidYouMean;
import java.time.temporal.TemporalAccessor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.tomlj.TomlArray;
import org.tomlj.TomlPosition;
import org.tomlj.TomlTable;

/**
 * One TOML table being read: typed getters that record a {@link ConfigProblem} (instead of throwing)
 * for a wrong type, an out-of-range number or a missing {@code ${VAR}}, and remember which keys were
 * read so the rest can be passed on or reported.
 */
final class Section {
  /**
   * Keys that name or select what runs: they appear in logs, dead letters and metrics, so they are
   * written in the file and never read from the environment ({@code ${VAR}} in them is a problem).
   */
  static final Set<String> LITERAL_KEYS = Set.of("backend", "checkpoint_strategy", "idempotency_table",
      "idempotency_store", "dead_letter_store", "overflow_policy", "name", "event", "table", "operation", "action",
      "type", "condition", "subject", "handler", "durable", "function", "backoff_strategy",
      "ordering", "ordering_key");

  private final LoadContext ctx;
  final TomlTable table;
  final String label;
  final ConfigLocation location;
  private final boolean literalKeys;
  private final Set<String> consumed = new HashSet<>();
  private final Set<String> expanded = new HashSet<>();
  private final Map<String, String> written = new HashMap<>();

  /** A section whose {@link #LITERAL_KEYS} are literal (handlers, rules, actions, subscriptions, [observers]). */
  Section(LoadContext ctx, TomlTable table, String label, TomlPosition position) {
    this(ctx, table, label, position, true);
  }

  /** {@code literalKeys} false: a backend's table, or a nested table, whose keys are the module's own. */
  Section(LoadContext ctx, TomlTable table, String label, TomlPosition position, boolean literalKeys) {
    this.ctx = ctx;
    this.table = table;
    this.label = label;
    this.location = ctx.location(position, label);
    this.literalKeys = literalKeys;
  }

  /**
   * How the value of {@code key} was written, when it used {@code ${VAR}} (for
   * {@link dev.fraiseql.observers.config.Settings.Builder#put(String, Object, ConfigLocation, String)}); else null.
   */
  String written(String key) {
    String w = written.get(key);
    if (w == null && expanded.contains(key) && table.get(List.of(key)) instanceof String) {
      w = (String) table.get(List.of(key));
    }
    return w;
  }

  boolean has(String key) {
    return table.get(List.of(key)) != null;
  }

  Object raw(String key) {
    consumed.add(key);
    return table.get(List.of(key));
  }

  TomlPosition position(String key) {
    TomlPosition p = table.inputPositionOf(List.of(key));
    return p;
  }

  ConfigLocation loc(String key) {
    TomlPosition p = position(key);
    return p == null ? location : ctx.location(p, label);
  }

  /** Where decoded character {@code offset} of the string value of {@code key} was written. */
  ConfigLocation loc(String key, int offset) {
    TomlPosition p = position(key);
    if (p == null) {
      return location;
    }
    int[] at = ctx.locator.locate(p.line(), p.column(), offset);
    return at == null ? ctx.location(p, label) : new ConfigLocation(ctx.source, at[0], at[1], label);
  }

  void problem(String key, String message, String fix) {
    ctx.problems.add(new ConfigProblem(loc(key), key, message, fix));
  }

  void problemAt(ConfigLocation at, String key, String message, String fix) {
    ctx.problems.add(new ConfigProblem(at, key, message, fix));
  }

  /** Whether the string value of {@code key} used a {@code ${VAR}}. */
  boolean wasExpanded(String key) {
    return expanded.contains(key);
  }

  void typeProblem(String key, String expected, Object got, String example) {
    boolean quoted = got instanceof String && !expected.equals("a string") && !expected.equals("a table");
    problem(key, "`" + key + "` must be " + expected + ", not " + describe(got),
        (quoted ? "remove the quotes: " : "write it as ") + example);
  }

  static String describe(Object v) {
    if (v instanceof TomlTable) {
      return "a table";
    }
    if (v instanceof TomlArray) {
      return "an array";
    }
    if (v instanceof TemporalAccessor) {
      return "a date/time";
    }
    return Settings.describeType(v);
  }

  /** A string, with {@code ${VAR}} expanded; empty when absent or wrong (a problem is recorded). */
  Optional<String> string(String key, String example) {
    Object v = raw(key);
    if (v == null) {
      return Optional.empty();
    }
    if (!(v instanceof String)) {
      typeProblem(key, "a string", v, example);
      return Optional.empty();
    }
    return expand(key, (String) v);
  }

  /** A non-blank string. */
  Optional<String> text(String key, String example) {
    Optional<String> s = string(key, example);
    if (s.isPresent() && s.get().isBlank()) {
      problem(key, "`" + key + "` is empty", "write it as " + example);
      return Optional.empty();
    }
    return s;
  }

  /**
   * Expands {@code ${VAR}} in {@code value} of {@code key} — except in {@code *_env} keys (they name a
   * variable) and, in a section with literal keys, in {@link #LITERAL_KEYS}: there a {@code ${VAR}} is
   * a problem naming the variable.
   */
  Optional<String> expand(String key, String value) {
    return expand(key, value, null);
  }

  private Optional<String> expand(String key, String value, boolean[] fromEnv) {
    boolean names = key.endsWith("_env");
    boolean literal = names || literalKeys && LITERAL_KEYS.contains(key);
    EnvExpander.Result r = EnvExpander.expand(value, literal ? null : ctx.env);
    for (EnvExpander.Issue issue : r.issues) {
      if (issue.message != null) {
        problemAt(loc(key, issue.offset), key, issue.message + " (in `" + key + "` of " + label + ")", issue.fix);
      } else if (names) {
        problemAt(loc(key, issue.offset), key, "`" + key + "` names an environment variable, so ${" + issue.variable
            + "} is not expanded in it", "write the variable's name: " + key + " = \"" + issue.variable + "\"");
      } else {
        problemAt(loc(key, issue.offset), key, "`" + key + "` cannot take ${" + issue.variable + "} from the "
            + "environment: keys that say what runs (names, events, tables, actions, subjects, handlers, conditions)"
            + " are written in the file", "write the value itself; ${VAR} is for URLs, credentials and an action's"
            + " own settings");
      }
    }
    if (r.expanded) {
      expanded.add(key);
      if (fromEnv != null) {
        fromEnv[0] = true;
      }
    }
    return r.issues.isEmpty() ? Optional.of(r.value) : Optional.empty();
  }

  /** An integer in [min, max]. */
  Optional<Long> integer(String key, long min, long max, String example) {
    Object v = raw(key);
    if (v == null) {
      return Optional.empty();
    }
    if (!(v instanceof Long)) {
      typeProblem(key, "an integer", v, example);
      return Optional.empty();
    }
    long n = (Long) v;
    if (n < min || n > max) {
      problem(key, "`" + key + "` is " + n + ", out of range",
          max == Long.MAX_VALUE ? "use " + min + " or more" : "use a value from " + min + " to " + max);
      return Optional.empty();
    }
    return Optional.of(n);
  }

  /** A number (integer or float) in [min, max]. */
  Optional<Double> number(String key, double min, double max, String example) {
    Object v = raw(key);
    if (v == null) {
      return Optional.empty();
    }
    if (!(v instanceof Long) && !(v instanceof Double)) {
      typeProblem(key, "a number", v, example);
      return Optional.empty();
    }
    double d = ((Number) v).doubleValue();
    if (!(d >= min && d <= max)) {
      problem(key, "`" + key + "` is " + v + ", out of range", "use a value from " + fmt(min) + " to " + fmt(max));
      return Optional.empty();
    }
    return Optional.of(d);
  }

  private static String fmt(double d) {
    return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
  }

  Optional<Boolean> bool(String key) {
    Object v = raw(key);
    if (v == null) {
      return Optional.empty();
    }
    if (!(v instanceof Boolean)) {
      typeProblem(key, "true or false", v, key + " = true");
      return Optional.empty();
    }
    return Optional.of((Boolean) v);
  }

  /** An enum-like string: one of {@code allowed} (case-insensitive), with a did-you-mean otherwise. */
  Optional<String> oneOf(String key, Collection<String> allowed, String what) {
    Optional<String> s = string(key, key + " = \"" + allowed.iterator().next() + "\"");
    if (s.isEmpty()) {
      return s;
    }
    for (String a : allowed) {
      if (a.equalsIgnoreCase(s.get().trim())) {
        return Optional.of(a);
      }
    }
    String shown = wasExpanded(key) ? "(the value of `" + key + "`)" : "`" + s.get() + "`";
    String fix = wasExpanded(key) ? "expected one of: " + String.join(", ", allowed) : DidYouMean.hint(s.get(), allowed);
    problem(key, "unknown " + what + " " + shown, fix);
    return Optional.empty();
  }

  /** Keys present but not read yet, in file order. */
  List<String> unread() {
    List<String> out = new ArrayList<>();
    for (String k : orderedKeys()) {
      if (!consumed.contains(k)) {
        out.add(k);
      }
    }
    return out;
  }

  /** The table's keys in the order they were written. */
  List<String> orderedKeys() {
    List<String> keys = new ArrayList<>(new LinkedHashSet<>(table.keySet()));
    keys.sort((a, b) -> {
      TomlPosition pa = position(a);
      TomlPosition pb = position(b);
      if (pa == null || pb == null) {
        return 0;
      }
      return pa.line() != pb.line() ? Integer.compare(pa.line(), pb.line()) : Integer.compare(pa.column(), pb.column());
    });
    return keys;
  }

  /** Records "unknown key" for every unread key, with a did-you-mean from {@code known}. */
  void rejectUnread(Collection<String> known) {
    for (String k : unread()) {
      consumed.add(k);
      problem(k, "unknown key `" + k + "`", DidYouMean.hint(k, known));
    }
  }

  /**
   * For keys that are passed on (to an action or a bus), flags only near-misses of {@code known} keys
   * ({@code max_atempts}): an action's own keys are checked later by the action itself.
   */
  List<String> passOn(Collection<String> known) {
    List<String> out = new ArrayList<>();
    for (String k : unread()) {
      consumed.add(k);
      Optional<String> near = nearMiss(k, known);
      if (near.isPresent()) {
        problem(k, "unknown key `" + k + "`", "did you mean `" + near.get() + "`?");
      } else {
        out.add(k);
      }
    }
    return out;
  }

  static Optional<String> nearMiss(String key, Collection<String> known) {
    String lower = key.toLowerCase(java.util.Locale.ROOT);
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String c : known) {
      int d = DidYouMean.distance(lower, c);
      if (d < bestDistance) {
        bestDistance = d;
        best = c;
      }
    }
    int allowed = key.length() < 6 ? 1 : 2;
    return best != null && bestDistance <= allowed && !best.equals(key) ? Optional.of(best) : Optional.empty();
  }

  /**
   * Converts the value of {@code key} to a settings value (strings expanded); null if it had problems.
   * When it used {@code ${VAR}}, {@link #written(String)} then tells how it was written.
   */
  Object settingsValue(String key) {
    Object v = raw(key);
    boolean[] fromEnv = new boolean[1];
    Object out = convert(key, v, 0, fromEnv);
    if (fromEnv[0] && out != null) {
      written.put(key, writtenForm(v));
    }
    return out;
  }

  /** A TOML value as written (strings with their ${VAR}), for messages: arrays and tables in TOML-like form. */
  private static String writtenForm(Object v) {
    if (v instanceof String) {
      return (String) v;
    }
    if (v instanceof TomlArray) {
      TomlArray a = (TomlArray) v;
      StringBuilder b = new StringBuilder("[");
      for (int i = 0; i < a.size(); i++) {
        b.append(i == 0 ? "" : ", ");
        Object x = a.get(i);
        b.append(x instanceof String ? "\"" + x + "\"" : writtenForm(x));
      }
      return b.append(']').toString();
    }
    if (v instanceof TomlTable) {
      return "{...}";
    }
    return String.valueOf(v);
  }

  private Object convert(String key, Object v, int depth, boolean[] fromEnv) {
    if (depth > 32) {
      problem(key, "`" + key + "` is nested too deeply (more than 32 levels)", "flatten it");
      return null;
    }
    if (v instanceof String) {
      return expand(key, (String) v, fromEnv).orElse(null);
    }
    if (v instanceof Long || v instanceof Double || v instanceof Boolean) {
      return v;
    }
    if (v instanceof TemporalAccessor) {
      return v.toString();
    }
    if (v instanceof TomlArray) {
      TomlArray a = (TomlArray) v;
      List<Object> out = new ArrayList<>(a.size());
      for (int k = 0; k < a.size(); k++) {
        Object x = convert(key, a.get(k), depth + 1, fromEnv);
        if (x == null) {
          return null;
        }
        out.add(x);
      }
      return out;
    }
    if (v instanceof TomlTable) {
      TomlTable t = (TomlTable) v;
      Section nested = new Section(ctx, t, label, position(key), false);
      Settings.Builder b = Settings.builder(nested.location);
      boolean ok = true;
      for (String k : nested.orderedKeys()) {
        boolean[] nestedEnv = new boolean[1];
        Object raw = nested.raw(k);
        Object x = nested.convert(k, raw, depth + 1, nestedEnv);
        if (x == null) {
          ok = false;
        } else {
          b.put(k, x, nested.loc(k), nestedEnv[0] ? writtenForm(raw) : null);
          fromEnv[0] |= nestedEnv[0];
        }
      }
      return ok ? b.build() : null;
    }
    return v == null ? null : v.toString();
  }
}
