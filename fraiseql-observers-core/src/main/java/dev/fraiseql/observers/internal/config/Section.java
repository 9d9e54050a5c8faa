package dev.fraiseql.observers.internal.config;

import dev.fraiseql.observers.config.ConfigLocation;
import dev.fraiseql.observers.config.ConfigProblem;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.internal.DidYouMean;
import java.time.temporal.TemporalAccessor;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
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
  private final LoadContext ctx;
  final TomlTable table;
  final String label;
  final ConfigLocation location;
  private final Set<String> consumed = new HashSet<>();
  private final Set<String> expanded = new HashSet<>();

  Section(LoadContext ctx, TomlTable table, String label, TomlPosition position) {
    this.ctx = ctx;
    this.table = table;
    this.label = label;
    this.location = ctx.location(position, label);
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

  Optional<String> expand(String key, String value) {
    EnvExpander.Result r = EnvExpander.expand(value, ctx.env);
    for (EnvExpander.Issue issue : r.issues) {
      problemAt(loc(key, issue.offset), key, issue.message + " (in `" + key + "` of " + label + ")", issue.fix);
    }
    if (r.expanded) {
      expanded.add(key);
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

  /** Converts the value of {@code key} to a settings value (strings expanded); null if it had problems. */
  Object settingsValue(String key) {
    Object v = raw(key);
    return convert(key, v, 0);
  }

  private Object convert(String key, Object v, int depth) {
    if (depth > 32) {
      problem(key, "`" + key + "` is nested too deeply (more than 32 levels)", "flatten it");
      return null;
    }
    if (v instanceof String) {
      return expand(key, (String) v).orElse(null);
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
        Object x = convert(key, a.get(k), depth + 1);
        if (x == null) {
          return null;
        }
        out.add(x);
      }
      return out;
    }
    if (v instanceof TomlTable) {
      TomlTable t = (TomlTable) v;
      Section nested = new Section(ctx, t, label, position(key));
      Settings.Builder b = Settings.builder(nested.location);
      boolean ok = true;
      for (String k : nested.orderedKeys()) {
        Object x = nested.convert(k, nested.raw(k), depth + 1);
        if (x == null) {
          ok = false;
        } else {
          b.put(k, x, nested.loc(k));
        }
      }
      return ok ? b.build() : null;
    }
    return v == null ? null : v.toString();
  }
}
