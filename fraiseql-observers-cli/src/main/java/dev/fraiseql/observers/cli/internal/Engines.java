package dev.fraiseql.observers.cli.internal;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.config.ObserversConfig;
import java.util.Set;

/** Builds the application's engine for one command: subscriptions stay closed, Java handlers are stand-ins. */
final class Engines {
  private Engines() {}

  /** The engine, started without opening subscriptions; an invalid config prints its problems and fails. */
  static ObserverEngine start(Ctx ctx, ObserversConfig cfg, Set<String> javaHandlers) {
    try {
      return ctx.builder(cfg, javaHandlers).openSubscriptions(false).build();
    } catch (ObserverConfigException e) {
      ctx.printProblems(ctx.configPath(), e.problems());
      throw CliFailure.failed("cannot start the engine with " + ctx.configPath());
    }
  }

  /** The engine, for commands on the durable dead-letter store: fails when dead letters live in memory only. */
  static ObserverEngine forDeadLetters(Ctx ctx, ObserversConfig cfg, Set<String> javaHandlers) {
    ObserverEngine engine = start(ctx, cfg, javaHandlers);
    String store = engine.deadLetters().store();
    if (store.startsWith("memory") || store.startsWith("in-memory")) {
      engine.close();
      throw CliFailure.failed("dead letters of " + ctx.configPath() + " are kept in memory, inside the application's "
          + "process: no other process can see them. Keep them durable with dead_letter_store = \"postgres\" "
          + "(and database_url) or \"redis\" (and redis_url) in [observers]");
    }
    return engine;
  }
}
