package dev.fraiseql.observers.internal.engine;

import dev.fraiseql.observers.config.CheckpointStrategy;
import dev.fraiseql.observers.config.ConfigLocation;
import dev.fraiseql.observers.config.ConfigProblem;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.internal.memory.InMemoryDeadLetterStore;
import dev.fraiseql.observers.internal.memory.InMemoryIdempotencyStore;
import dev.fraiseql.observers.spi.Backend;
import dev.fraiseql.observers.spi.DeadLetterStore;
import dev.fraiseql.observers.spi.IdempotencyStore;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses the dead-letter and idempotency stores: the builder's; else the backend named by
 * {@code dead_letter_store} / {@code idempotency_store}; else the main backend's; else, for
 * idempotency under effectively_once with a non-durable main backend, PostgreSQL when the pg module is
 * present and configured; else memory (with a warning where that weakens a guarantee).
 */
final class Stores {
  private static final Logger LOG = LoggerFactory.getLogger("dev.fraiseql.observers");

  final DeadLetterStore deadLetters;
  final IdempotencyStore idempotency;
  String deadLetterStoreName;

  Stores(EngineSpec spec, DefaultObserverEngine.Resources res, List<ConfigProblem> problems) {
    ObserversConfig cfg = spec.config();
    Backend main = res.mainBackend();
    ConfigLocation at = new ConfigLocation(cfg.source(), 0, 0, "[observers]");

    DeadLetterStore dls = spec.deadLetterStore().orElse(null);
    deadLetterStoreName = dls != null ? dls.getClass().getSimpleName() : null;
    if (dls == null && cfg.deadLetterStore().isPresent()) {
      String name = cfg.deadLetterStore().get();
      Backend b = res.backend(name, problems);
      if (b != null) {
        dls = b.deadLetterStore().orElse(null);
        if (dls == null) {
          problems.add(new ConfigProblem(at, "dead_letter_store", "backend `" + name + "` has no dead-letter store",
              "use postgres, redis or in-memory"));
        }
        deadLetterStoreName = name;
      }
    }
    if (dls == null && main != null) {
      dls = main.deadLetterStore().orElse(null);
      deadLetterStoreName = cfg.backend();
    }
    if (dls == null && pgConfigured(spec, res)) {
      // the main backend keeps no dead letters (nats): PostgreSQL is configured, so keep them durable there
      Backend pg = res.backend("postgres", problems);
      if (pg != null) {
        dls = pg.deadLetterStore().orElse(null);
        deadLetterStoreName = "postgres";
      }
    }
    if (dls == null) {
      dls = new InMemoryDeadLetterStore(cfg.deadLetterCapacity());
      deadLetterStoreName = "memory (bounded by dead_letter_capacity=" + cfg.deadLetterCapacity() + ")";
    }
    this.deadLetters = dls;

    IdempotencyStore idem = spec.idempotencyStore().orElse(null);
    if (idem == null && cfg.idempotencyStore().isPresent()) {
      String name = cfg.idempotencyStore().get();
      Backend b = res.backend(name, problems);
      if (b != null) {
        idem = b.idempotencyStore().orElse(null);
        if (idem == null) {
          problems.add(new ConfigProblem(at, "idempotency_store", "backend `" + name + "` has no idempotency store",
              "use postgres, redis or in-memory"));
        }
      }
    }
    boolean durableMain = main != null && !"in-memory".equals(cfg.backend()) && !"webhook".equals(cfg.backend());
    if (idem == null && durableMain) {
      idem = main.idempotencyStore().orElse(null);
    }
    if (idem == null && cfg.checkpointStrategy() == CheckpointStrategy.EFFECTIVELY_ONCE && pgConfigured(spec, res)) {
      Backend pg = res.backend("postgres", problems);
      if (pg != null) {
        idem = pg.idempotencyStore().orElse(null);
      }
    }
    if (idem == null && main != null) {
      idem = main.idempotencyStore().orElse(null);
    }
    if (idem == null) {
      idem = new InMemoryIdempotencyStore(1_000_000, spec.clock());
    }
    if (cfg.checkpointStrategy() == CheckpointStrategy.EFFECTIVELY_ONCE && idem instanceof InMemoryIdempotencyStore) {
      LOG.warn("[observer] checkpoint_strategy = \"effectively_once\" with idempotency keys in memory: duplicates are caught "
          + "within this process only, not across restarts or instances. Add fraiseql-observers-pg with database_url "
          + "(or a DataSource) for the {} table, or set idempotency_store = \"redis\".", cfg.idempotencyTable());
    }
    this.idempotency = idem;
  }

  /** The pg module is on the classpath and has a database: database_url or a registered DataSource. */
  private static boolean pgConfigured(EngineSpec spec, DefaultObserverEngine.Resources res) {
    return res.hasBackendProvider("postgres")
        && (spec.config().backendSettings().has("database_url") || hasDataSource(spec));
  }

  private static boolean hasDataSource(EngineSpec spec) {
    return spec.components().values().stream().anyMatch(javax.sql.DataSource.class::isInstance);
  }
}
