package dev.fraiseql.observers.internal.engine;

import dev.fraiseql.observers.ObserverEngine;

/** The engine. Being written in its own change (issue #2, #3). */
public final class DefaultObserverEngine {
  private DefaultObserverEngine() {}

  public static ObserverEngine start(EngineSpec spec) {
    throw new IllegalStateException("engine not built yet");
  }
}
