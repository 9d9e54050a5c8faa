package dev.fraiseql.observers.graphqlws.internal;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.config.ConfigLocation;
import dev.fraiseql.observers.config.ConfigProblem;
import dev.fraiseql.observers.graphqlws.SlowClientPolicy;
import dev.fraiseql.observers.graphqlws.SubscriptionDefinition;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import org.tomlj.Toml;
import org.tomlj.TomlArray;
import org.tomlj.TomlParseError;
import org.tomlj.TomlParseResult;
import org.tomlj.TomlPosition;
import org.tomlj.TomlTable;

/**
 * Reads the {@code [graphql_ws]} section of {@code fraiseql.toml}. The core loader ignores top-level
 * tables other than {@code [observers]} (they are FraiseQL's own), so this section lives beside it and
 * is validated here with the same strictness: unknown keys, wrong types and bad values are reported
 * together, each with file:line:column, key and fix.
 */
public final class ConfigReader {
  static final List<String> SECTION_KEYS = List.of("connection_init_timeout_ms", "buffer_size", "slow_client",
      "queue_capacity", "max_message_bytes", "keep_alive_ms", "subscriptions");
  static final List<String> SUBSCRIPTION_KEYS = List.of("field", "entity_type", "table", "operation", "arguments",
      "fields");
  private static final Pattern SEED_RULE = Pattern.compile("^(\\s*)\\[\\[\\s*observers\\s*\\]\\]");
  private static final Pattern SEED_ACTION = Pattern.compile("^(\\s*)\\[\\[\\s*observers\\s*\\.\\s*actions\\s*\\]\\]");

  /** What the section says. */
  public record Read(Map<String, Object> settings, List<SubscriptionDefinition> subscriptions) {
    public long longSetting(String key, long defaultValue) {
      Object v = settings.get(key);
      return v instanceof Long ? (Long) v : defaultValue;
    }

    public Optional<SlowClientPolicy> slowClient() {
      Object v = settings.get("slow_client");
      return v instanceof String ? Optional.of(SlowClientPolicy.valueOf(((String) v).toUpperCase(Locale.ROOT)))
          : Optional.empty();
    }
  }

  private final String source;
  private final List<ConfigProblem> problems = new ArrayList<>();

  private ConfigReader(String source) {
    this.source = source;
  }

  /**
   * @throws ObserverConfigException with every problem found
   */
  public static Read read(String toml, String source) {
    ConfigReader r = new ConfigReader(source);
    Read read = r.parse(toml);
    if (!r.problems.isEmpty()) {
      throw new ObserverConfigException(source, r.problems);
    }
    return read;
  }

  /**
   * Seed 000's {@code [observers]} + {@code [[observers]]} form is not valid TOML; the core loader
   * accepts it, so this reader does too, rewriting its two headers line for line (positions stay true).
   */
  static String seedFormRewritten(String toml) {
    String[] lines = toml.split("\n", -1);
    boolean hasTable = false;
    boolean hasArray = false;
    for (String l : lines) {
      if (l.trim().matches("\\[\\s*observers\\s*\\]\\s*(#.*)?")) {
        hasTable = true;
      }
      if (SEED_RULE.matcher(l).find()) {
        hasArray = true;
      }
    }
    if (!(hasTable && hasArray)) {
      return toml;
    }
    StringBuilder b = new StringBuilder(toml.length() + 64);
    for (int i = 0; i < lines.length; i++) {
      String l = SEED_RULE.matcher(lines[i]).replaceFirst("$1[[observers.rules]]");
      l = SEED_ACTION.matcher(l).replaceFirst("$1[[observers.rules.actions]]");
      b.append(l);
      if (i < lines.length - 1) {
        b.append('\n');
      }
    }
    return b.toString();
  }

  private Read parse(String toml) {
    TomlParseResult r = Toml.parse(seedFormRewritten(toml));
    if (r.hasErrors()) {
      for (TomlParseError e : r.errors()) {
        problems.add(new ConfigProblem(loc(e.position(), "[graphql_ws]"), "", "TOML syntax: " + e.getMessage(),
            "fix the syntax at this position"));
      }
      return new Read(Map.of(), List.of());
    }
    Object section = r.get("graphql_ws");
    if (section == null) {
      problems.add(new ConfigProblem(new ConfigLocation(source, 0, 0, "[graphql_ws]"), "graphql_ws",
          "no [graphql_ws] section: no subscription is declared",
          "add [[graphql_ws.subscriptions]] with field, entity_type, operation and fields (see the module README)"));
      return new Read(Map.of(), List.of());
    }
    if (!(section instanceof TomlTable)) {
      problems.add(new ConfigProblem(loc(r.inputPositionOf("graphql_ws"), "[graphql_ws]"), "graphql_ws",
          "`graphql_ws` must be a table", "write it as [graphql_ws]"));
      return new Read(Map.of(), List.of());
    }
    TomlTable t = (TomlTable) section;
    Map<String, Object> settings = new LinkedHashMap<>();
    unknownKeys(t, SECTION_KEYS, "[graphql_ws]");
    integer(t, "connection_init_timeout_ms", 1, 3_600_000, "[graphql_ws]", settings);
    integer(t, "buffer_size", 1, 1_000_000, "[graphql_ws]", settings);
    integer(t, "queue_capacity", 1, 10_000_000, "[graphql_ws]", settings);
    integer(t, "max_message_bytes", 256, 16 << 20, "[graphql_ws]", settings);
    integer(t, "keep_alive_ms", 0, 3_600_000, "[graphql_ws]", settings);
    if (t.contains("slow_client")) {
      Object v = t.get("slow_client");
      if (v instanceof String && List.of("drop_oldest", "close").contains(v)) {
        settings.put("slow_client", v);
      } else {
        problem(t, "slow_client", "[graphql_ws]", "`slow_client` is " + shown(v),
            "use slow_client = \"drop_oldest\" (the default) or \"close\"");
      }
    }
    List<SubscriptionDefinition> subs = new ArrayList<>();
    if (!t.contains("subscriptions")) {
      problems.add(new ConfigProblem(loc(r.inputPositionOf("graphql_ws"), "[graphql_ws]"), "subscriptions",
          "[graphql_ws] declares no subscription", "add [[graphql_ws.subscriptions]] entries (see the module README)"));
    } else if (!allTables(t.get("subscriptions"))) {
      problem(t, "subscriptions", "[graphql_ws]", "`subscriptions` must be an array of tables",
          "write each as [[graphql_ws.subscriptions]]");
    } else {
      TomlArray a = (TomlArray) t.get("subscriptions");
      Set<String> fieldNames = new LinkedHashSet<>();
      for (int i = 0; i < a.size(); i++) {
        String sec = "[[graphql_ws.subscriptions]] #" + (i + 1);
        subscription(a.getTable(i), sec, fieldNames).ifPresent(subs::add);
      }
    }
    return new Read(settings, subs);
  }

  private static boolean allTables(Object v) {
    if (!(v instanceof TomlArray)) {
      return false;
    }
    TomlArray a = (TomlArray) v;
    for (int i = 0; i < a.size(); i++) {
      if (!(a.get(i) instanceof TomlTable)) {
        return false;
      }
    }
    return true;
  }

  private Optional<SubscriptionDefinition> subscription(TomlTable t, String sec, Set<String> fieldNames) {
    int before = problems.size();
    unknownKeys(t, SUBSCRIPTION_KEYS, sec);
    Optional<String> field = text(t, "field", sec, "field = \"orderUpdated\"");
    Optional<String> entity = text(t, "entity_type", sec, "entity_type = \"Order\"");
    Optional<String> table = t.contains("table") ? text(t, "table", sec, "table = \"tb_order\"") : Optional.empty();
    Optional<Operation> op = Optional.empty();
    if (t.contains("operation")) {
      Object v = t.get("operation");
      String s = v instanceof String ? ((String) v).toUpperCase(Locale.ROOT) : "";
      if (List.of("INSERT", "UPDATE", "DELETE").contains(s)) {
        op = Optional.of(Operation.valueOf(s));
      } else if (!s.equals("ANY")) {
        problem(t, "operation", sec, "unknown operation " + shown(v), "use INSERT, UPDATE, DELETE or any");
      }
    }
    Map<String, String> fields = new LinkedHashMap<>();
    if (!t.contains("fields")) {
      problems.add(new ConfigProblem(loc(t.inputPositionOf("field"), sec), "fields", sec + " has no `fields`",
          "list the row fields clients may select: fields = { id = \"ID\", status = \"String\" }"));
    } else if (t.get("fields") instanceof TomlArray) {
      TomlArray a = (TomlArray) t.get("fields");
      for (int i = 0; i < a.size(); i++) {
        Object v = a.get(i);
        if (v instanceof String) {
          fields.put((String) v, v.equals("id") ? "ID" : "String");
        } else {
          problem(t, "fields", sec, "`fields` must hold row field names, found " + shown(v),
              "fields = [\"id\", \"status\"] or fields = { id = \"ID\", total = \"Float\" }");
        }
      }
    } else if (t.get("fields") instanceof TomlTable) {
      TomlTable ft = (TomlTable) t.get("fields");
      for (String k : ft.keySet()) {
        Object v = ft.get(List.of(k));
        if (v instanceof String && SubscriptionDefinition.TYPES.contains(v)) {
          fields.put(k, (String) v);
        } else {
          problem(t, "fields", sec, "field `" + k + "` has type " + shown(v),
              "use one of " + String.join(", ", SubscriptionDefinition.TYPES));
        }
      }
    } else {
      problem(t, "fields", sec, "`fields` is " + shown(t.get("fields")),
          "fields = [\"id\", \"status\"] or fields = { id = \"ID\", total = \"Float\" }");
    }
    Map<String, String> args = new LinkedHashMap<>();
    if (t.contains("arguments")) {
      if (t.get("arguments") instanceof TomlTable) {
        TomlTable at = (TomlTable) t.get("arguments");
        for (String k : at.keySet()) {
          Object v = at.get(List.of(k));
          if (v instanceof String && !((String) v).isBlank()) {
            args.put(k, (String) v);
          } else {
            problem(t, "arguments", sec, "argument `" + k + "` maps to " + shown(v),
                "map each argument to a row field: arguments = { customerId = \"customer_id\" }");
          }
        }
      } else {
        problem(t, "arguments", sec, "`arguments` is " + shown(t.get("arguments")),
            "arguments = { customerId = \"customer_id\" }");
      }
    }
    if (problems.size() > before || field.isEmpty() || entity.isEmpty()) {
      return Optional.empty();
    }
    if (!fieldNames.add(field.get())) {
      problem(t, "field", sec, "subscription field `" + field.get() + "` is declared twice", "give each a distinct field");
      return Optional.empty();
    }
    try {
      return Optional.of(new SubscriptionDefinition(field.get(), entity.get(),
          table.orElse(SubscriptionDefinition.defaultTable(entity.get())), op, args, fields));
    } catch (IllegalArgumentException e) {
      problems.add(new ConfigProblem(loc(t.inputPositionOf("field"), sec), "field", e.getMessage(),
          "use GraphQL names and the types " + SubscriptionDefinition.TYPES));
      return Optional.empty();
    }
  }

  private Optional<String> text(TomlTable t, String key, String sec, String example) {
    if (!t.contains(key)) {
      problems.add(new ConfigProblem(loc(t.inputPositionOf(t.keySet().isEmpty() ? key : t.keySet().iterator().next()),
          sec), key, sec + " has no `" + key + "`", "add " + example));
      return Optional.empty();
    }
    Object v = t.get(List.of(key));
    if (!(v instanceof String) || ((String) v).isBlank()) {
      problem(t, key, sec, "`" + key + "` is " + shown(v), "write " + example);
      return Optional.empty();
    }
    return Optional.of((String) v);
  }

  private void integer(TomlTable t, String key, long min, long max, String sec, Map<String, Object> out) {
    if (!t.contains(key)) {
      return;
    }
    Object v = t.get(List.of(key));
    if (v instanceof Long && (Long) v >= min && (Long) v <= max) {
      out.put(key, v);
    } else {
      problem(t, key, sec, "`" + key + "` is " + shown(v), "use an integer from " + min + " to " + max);
    }
  }

  private void unknownKeys(TomlTable t, List<String> known, String sec) {
    for (String k : t.keySet()) {
      if (!known.contains(k)) {
        String near = nearest(k, known);
        problem(t, k, sec, "unknown key `" + k + "` in " + sec + (near == null ? "" : " — did you mean `" + near + "`?"),
            "known keys: " + String.join(", ", known));
      }
    }
  }

  private void problem(TomlTable t, String key, String sec, String message, String fix) {
    problems.add(new ConfigProblem(loc(t.inputPositionOf(List.of(key)), sec), key, message, fix));
  }

  private ConfigLocation loc(TomlPosition p, String sec) {
    return p == null ? new ConfigLocation(source, 0, 0, sec) : new ConfigLocation(source, p.line(), p.column(), sec);
  }

  private static String shown(Object v) {
    if (v == null) {
      return "missing";
    }
    if (v instanceof String) {
      return "\"" + v + "\"";
    }
    if (v instanceof TomlTable) {
      return "a table";
    }
    if (v instanceof TomlArray) {
      return "an array";
    }
    return v.toString();
  }

  static String nearest(String k, List<String> known) {
    String best = null;
    int bestD = Integer.MAX_VALUE;
    for (String c : known) {
      int d = distance(k, c);
      if (d < bestD) {
        bestD = d;
        best = c;
      }
    }
    return bestD <= Math.max(2, k.length() / 4) ? best : null;
  }

  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int c = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + c);
      }
      int[] tmp = prev;
      prev = cur;
      cur = tmp;
    }
    return prev[b.length()];
  }
}
