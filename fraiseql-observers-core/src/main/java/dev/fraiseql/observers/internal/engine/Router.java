package dev.fraiseql.observers.internal.engine;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.config.Trigger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Compiled rules: handlers indexed by event name, by (table, operation) and by table (any operation).
 * A lookup is three hash probes and a merge of (usually one) small sorted arrays, whatever the number
 * of rules; the result is in definition order.
 */
final class Router {
  private static final HandlerRuntime[] NONE = new HandlerRuntime[0];

  private final Map<String, HandlerRuntime[]> byName;
  private final Map<String, HandlerRuntime[]> byTableOp;
  private final Map<String, HandlerRuntime[]> byTable;

  Router(List<HandlerRuntime> handlers, List<Trigger> triggers) {
    Map<String, List<HandlerRuntime>> name = new HashMap<>();
    Map<String, List<HandlerRuntime>> tableOp = new HashMap<>();
    Map<String, List<HandlerRuntime>> table = new HashMap<>();
    for (int i = 0; i < handlers.size(); i++) {
      HandlerRuntime h = handlers.get(i);
      Trigger t = triggers.get(i);
      if (t.eventName().isPresent()) {
        name.computeIfAbsent(t.eventName().get(), k -> new ArrayList<>()).add(h);
      } else if (t.operation().isPresent()) {
        tableOp.computeIfAbsent(key(t.table().get(), t.operation().get()), k -> new ArrayList<>()).add(h);
      } else {
        table.computeIfAbsent(t.table().get(), k -> new ArrayList<>()).add(h);
      }
    }
    this.byName = freeze(name);
    this.byTableOp = freeze(tableOp);
    this.byTable = freeze(table);
  }

  private static Map<String, HandlerRuntime[]> freeze(Map<String, List<HandlerRuntime>> m) {
    Map<String, HandlerRuntime[]> out = new HashMap<>(Math.max(16, m.size() * 2));
    m.forEach((k, v) -> out.put(k, v.toArray(NONE)));
    return out;
  }

  private static String key(String table, Operation op) {
    return op.name() + ' ' + table;
  }

  /** The handlers whose trigger matches, in definition order. */
  HandlerRuntime[] match(ObservedEvent e) {
    HandlerRuntime[] a = byName.getOrDefault(e.name(), NONE);
    HandlerRuntime[] b = byTableOp.isEmpty() ? NONE : byTableOp.getOrDefault(key(e.table(), e.operation()), NONE);
    HandlerRuntime[] c = byTable.isEmpty() ? NONE : byTable.getOrDefault(e.table(), NONE);
    if (b.length == 0 && c.length == 0) {
      return a;
    }
    if (a.length == 0 && c.length == 0) {
      return b;
    }
    if (a.length == 0 && b.length == 0) {
      return c;
    }
    HandlerRuntime[] all = new HandlerRuntime[a.length + b.length + c.length];
    System.arraycopy(a, 0, all, 0, a.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    System.arraycopy(c, 0, all, a.length + b.length, c.length);
    Arrays.sort(all, (x, y) -> Integer.compare(x.index(), y.index()));
    return all;
  }
}
