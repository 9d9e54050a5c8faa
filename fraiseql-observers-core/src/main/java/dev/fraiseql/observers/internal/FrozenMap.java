package dev.fraiseql.observers.internal;

import java.util.AbstractMap;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * An unmodifiable, insertion-ordered map that owns its contents, whose values are immutable
 * themselves (strings, numbers, other frozen maps and lists). Being one marks "deep-frozen": code
 * that would copy a map to protect itself (event rows, message headers) takes it as it is.
 */
public final class FrozenMap<V> extends AbstractMap<String, V> {
  private final Map<String, V> m;
  private final Set<Entry<String, V>> entries;
  private final int height;

  /** Takes {@code owned}: the caller must not keep or change it, and its values must be immutable. */
  public FrozenMap(LinkedHashMap<String, V> owned) {
    this.m = owned;
    this.entries = Collections.unmodifiableMap(owned).entrySet();
    int h = 0;
    for (V v : owned.values()) {
      if (v instanceof FrozenMap || v instanceof java.util.List) {
        h = Math.max(h, JsonValues.height(v));
      }
    }
    this.height = h + 1;
  }

  /** Levels of maps and lists, this one included (1 for a flat map). */
  int height() {
    return height;
  }

  @Override
  public Set<Entry<String, V>> entrySet() {
    return entries;
  }

  @Override
  public V get(Object key) {
    return m.get(key);
  }

  @Override
  public boolean containsKey(Object key) {
    return m.containsKey(key);
  }

  @Override
  public int size() {
    return m.size();
  }
}
