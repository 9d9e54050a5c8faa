package dev.fraiseql.observers.pg.internal;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.config.ConfigLocation;
import dev.fraiseql.observers.config.ConfigProblem;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.config.Trigger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which tables the capture triggers cover, and for which operations, derived from the config: every
 * rule's {@code table} (its operation, or all three), the table behind every handler {@code event}
 * ({@code user.created} is INSERT on {@code tb_user}, or on the table an {@code [[observers.capture]]}
 * entry maps to entity {@code user}), and every {@code [[observers.capture]]} entry.
 */
public final class CapturePlan {
  /** {@code [observers.postgres] capture = "triggers" | "off"}. */
  public static final String MODE_KEY = "capture";
  /** {@code [observers.postgres] capture_install = true | false}: install/upgrade at start-up, or only check. */
  public static final String INSTALL_KEY = "capture_install";
  /** Where the loader puts the {@code [[observers.capture]]} entries. */
  public static final String TABLES_KEY = "capture_tables";
  public static final Set<String> KEYS = Set.of(MODE_KEY, INSTALL_KEY, TABLES_KEY);
  static final Set<String> ENTRY_KEYS = Set.of("table", "entity", "columns", "exclude_columns", "operations");

  /** One captured table. {@code tableText} is the {@code table} every event carries (as written in the config). */
  public record Table(CaptureName name, String tableText, String entity, Set<Operation> operations,
      List<String> columns, List<String> excluded, ConfigLocation location) {}

  private final boolean enabled;
  private final boolean install;
  private final List<Table> tables;

  private CapturePlan(boolean enabled, boolean install, List<Table> tables) {
    this.enabled = enabled;
    this.install = install;
    this.tables = tables;
  }

  public boolean enabled() {
    return enabled;
  }

  public boolean install() {
    return install;
  }

  public List<Table> tables() {
    return tables;
  }

  /**
   * Reads the plan from {@code config}'s postgres settings; disabled unless {@code capture = "triggers"}.
   *
   * @throws ObserverConfigException naming the key, entry or name that is wrong
   */
  public static CapturePlan from(ObserversConfig config) {
    Settings s = config.backendSettings("postgres");
    String mode = s.string(MODE_KEY).orElse("off").trim().toLowerCase(Locale.ROOT);
    if (!mode.equals("triggers") && !mode.equals("off")) {
      throw new ObserverConfigException(new ConfigProblem(s.location(MODE_KEY), MODE_KEY,
          "`capture = \"" + mode + "\"` is not a capture mode", "use capture = \"triggers\" (or \"off\", the default)"));
    }
    boolean install = s.bool(INSTALL_KEY, s.bool(PgBackendSettings.CREATE_TABLES, true));
    List<ConfigProblem> problems = new ArrayList<>();
    Map<CaptureName, Builder> byName = new LinkedHashMap<>();
    Map<String, Builder> byEntity = new LinkedHashMap<>();
    Object raw = s.value(TABLES_KEY).orElse(List.of());
    if (!(raw instanceof List)) {
      throw new ObserverConfigException(new ConfigProblem(s.location(TABLES_KEY), "capture",
          "`capture` must be an array of tables", "write each entry as [[observers.capture]]"));
    }
    int n = 0;
    for (Object o : (List<?>) raw) {
      n++;
      ConfigLocation at = s.location(TABLES_KEY);
      String where = "[[observers.capture]] #" + n;
      if (!(o instanceof Settings)) {
        problems.add(new ConfigProblem(at, "capture", where + " is not a table", "write it as [[observers.capture]]"));
        continue;
      }
      Settings e = (Settings) o;
      at = e.location();
      for (ConfigProblem p : e.unknownKeys(ENTRY_KEYS)) {
        problems.add(new ConfigProblem(p.location(), p.key(), p.message() + " in " + where, p.fix()));
      }
      Optional<String> table = e.string("table");
      if (table.isEmpty()) {
        problems.add(new ConfigProblem(at, "table", where + " has no `table`", "add table = \"sales.orders\""));
        continue;
      }
      CaptureName name;
      try {
        name = CaptureName.parse(table.get());
      } catch (IllegalArgumentException ex) {
        problems.add(new ConfigProblem(e.location("table"), "table", ex.getMessage() + " in " + where,
            "write `name`, `schema.name` or quoted parts (`\"Sales\".\"Orders\"`)"));
        continue;
      }
      String entity = e.string("entity").map(String::trim).orElse(entityOf(name.name()));
      if (entity.isEmpty() || entity.contains(".")) {
        problems.add(new ConfigProblem(e.location("entity"), "entity", "`entity = \"" + entity + "\"` in " + where
            + " is not an entity name", "use a name without dots, e.g. entity = \"order\" (events order.created ...)"));
        continue;
      }
      List<String> columns = columns(e, "columns", where, problems);
      List<String> excluded = columns(e, "exclude_columns", where, problems);
      if (!columns.isEmpty() && !excluded.isEmpty()) {
        problems.add(new ConfigProblem(e.location("exclude_columns"), "exclude_columns", where
            + " sets both `columns` and `exclude_columns`", "keep one of them"));
      }
      EnumSet<Operation> ops = EnumSet.noneOf(Operation.class);
      for (String op : stringList(e, "operations", where, problems)) {
        Optional<Operation> parsed = Operation.parse(op);
        if (parsed.isEmpty()) {
          problems.add(new ConfigProblem(e.location("operations"), "operations", "`" + op + "` in " + where
              + " is not an operation", "use INSERT, UPDATE and/or DELETE"));
        } else {
          ops.add(parsed.get());
        }
      }
      if (byName.containsKey(name)) {
        problems.add(new ConfigProblem(e.location("table"), "table", where + " repeats table " + name,
            "keep one [[observers.capture]] entry per table"));
        continue;
      }
      if (byEntity.containsKey(entity)) {
        problems.add(new ConfigProblem(e.location("entity"), "entity", where + " maps a second table to entity `"
            + entity + "`", "give each captured table its own entity"));
        continue;
      }
      Builder b = new Builder(name, table.get().trim(), entity, at, true);
      b.ops.addAll(ops);
      b.explicitOps = !ops.isEmpty();
      b.columns = columns;
      b.excluded = excluded;
      byName.put(name, b);
      byEntity.put(entity, b);
    }
    if (!problems.isEmpty()) {
      throw new ObserverConfigException(config.source(), problems);
    }
    for (HandlerConfig h : config.handlers()) {
      Trigger t = h.trigger();
      if (t.table().isPresent()) {
        CaptureName name;
        try {
          name = CaptureName.parse(t.table().get());
        } catch (IllegalArgumentException ex) {
          continue; // not a table this module can capture (the loader already validated rule tables)
        }
        Builder b = byName.get(name);
        if (b == null) {
          b = new Builder(name, t.table().get(), entityOf(name.name()), h.location(), false);
          byName.put(name, b);
          byEntity.putIfAbsent(b.entity, b);
        }
        if (t.operation().isPresent()) {
          b.derived.add(t.operation().get());
        } else {
          b.derived.addAll(EnumSet.allOf(Operation.class));
        }
      } else if (t.eventName().isPresent()) {
        String ev = t.eventName().get();
        int dot = ev.lastIndexOf('.');
        if (dot <= 0) {
          continue;
        }
        Optional<Operation> op = verb(ev.substring(dot + 1));
        if (op.isEmpty()) {
          continue; // a custom event name: only onCommit/PgOutbox.record produce it
        }
        String entity = ev.substring(0, dot);
        Builder b = byEntity.get(entity);
        if (b == null) {
          CaptureName name;
          try {
            name = CaptureName.parse("tb_" + entity);
          } catch (IllegalArgumentException ex) {
            continue;
          }
          b = byName.get(name);
          if (b == null) {
            b = new Builder(name, "tb_" + entity, entity, h.location(), false);
            byName.put(name, b);
          }
          byEntity.putIfAbsent(entity, b);
        }
        b.derived.add(op.get());
      }
    }
    List<Table> out = new ArrayList<>();
    for (Builder b : byName.values()) {
      EnumSet<Operation> ops = EnumSet.noneOf(Operation.class);
      if (b.explicitOps) {
        ops.addAll(b.ops);
      } else if (!b.derived.isEmpty()) {
        ops.addAll(b.derived);
      } else if (b.explicit) {
        ops.addAll(EnumSet.allOf(Operation.class)); // declared, observed by name only through a bus: all changes
      }
      if (!ops.isEmpty()) {
        out.add(new Table(b.name, b.tableText, b.entity, Collections.unmodifiableSet(ops), List.copyOf(b.columns),
            List.copyOf(b.excluded), b.location));
      }
    }
    return new CapturePlan(mode.equals("triggers"), install, List.copyOf(out));
  }

  private static Optional<Operation> verb(String v) {
    for (Operation op : Operation.values()) {
      if (op.verb().equals(v)) {
        return Optional.of(op);
      }
    }
    return Optional.empty();
  }

  /** As {@code ObservedEvent} derives it: {@code tb_user} → {@code user}. */
  static String entityOf(String table) {
    return table.startsWith("tb_") && table.length() > 3 ? table.substring(3) : table;
  }

  private static List<String> stringList(Settings e, String key, String where, List<ConfigProblem> problems) {
    try {
      return e.stringList(key);
    } catch (ObserverConfigException ex) {
      problems.add(new ConfigProblem(e.location(key), key, "`" + key + "` in " + where + " must be an array of strings",
          key + " = [\"a\", \"b\"]"));
      return List.of();
    }
  }

  private static List<String> columns(Settings e, String key, String where, List<ConfigProblem> problems) {
    List<String> out = new ArrayList<>();
    for (String c : stringList(e, key, where, problems)) {
      try {
        out.add(CaptureName.column(c));
      } catch (IllegalArgumentException ex) {
        problems.add(new ConfigProblem(e.location(key), key, ex.getMessage() + " in " + where,
            "list column names such as \"password_hash\""));
      }
    }
    return out;
  }

  private static final class Builder {
    final CaptureName name;
    final String tableText;
    final String entity;
    final ConfigLocation location;
    final boolean explicit;
    final EnumSet<Operation> ops = EnumSet.noneOf(Operation.class);
    final EnumSet<Operation> derived = EnumSet.noneOf(Operation.class);
    boolean explicitOps;
    List<String> columns = List.of();
    List<String> excluded = List.of();

    Builder(CaptureName name, String tableText, String entity, ConfigLocation location, boolean explicit) {
      this.name = name;
      this.tableText = tableText;
      this.entity = entity;
      this.location = location;
      this.explicit = explicit;
    }
  }
}
