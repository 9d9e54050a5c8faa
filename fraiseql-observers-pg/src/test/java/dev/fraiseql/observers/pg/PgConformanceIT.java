package dev.fraiseql.observers.pg;

import dev.fraiseql.observers.pg.internal.PgDeadLetterStore;
import dev.fraiseql.observers.pg.internal.PgEventBus;
import dev.fraiseql.observers.pg.internal.PgIdempotencyStore;
import dev.fraiseql.observers.pg.internal.PgIdentifier;
import dev.fraiseql.observers.spi.DeadLetterStore;
import dev.fraiseql.observers.spi.EventBus;
import dev.fraiseql.observers.spi.IdempotencyStore;
import dev.fraiseql.observers.testkit.DeadLetterStoreConformance;
import dev.fraiseql.observers.testkit.EventBusConformance;
import dev.fraiseql.observers.testkit.IdempotencyStoreConformance;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;

/** Core's conformance kit against the PostgreSQL stores and bus (one schema for all three). */
class PgConformanceIT {
  static final java.util.concurrent.atomic.AtomicInteger TABLES = new java.util.concurrent.atomic.AtomicInteger();
  static PgTestSupport pg;

  @BeforeAll
  static void setUp() {
    pg = new PgTestSupport();
  }

  @AfterAll
  static void tearDown() {
    pg.close();
  }

  @Nested
  class Idempotency extends IdempotencyStoreConformance {
    private final List<PgIdempotencyStore> open = new ArrayList<>();

    @Override
    protected IdempotencyStore createStore() {
      PgIdempotencyStore s = new PgIdempotencyStore(pg.db, PgIdentifier.parse(pg.t("conf_idempotency")), true, 10_000);
      open.add(s);
      return s;
    }

    @AfterEach
    void closeStores() {
      open.forEach(PgIdempotencyStore::close);
      open.clear();
    }
  }

  @Nested
  class DeadLetters extends DeadLetterStoreConformance {
    @Override
    protected DeadLetterStore createStore() {
      // a fresh table per test: the kit counts what it stored
      return new PgDeadLetterStore(pg.db, PgIdentifier.parse(pg.t("conf_dead_letters_" + TABLES.incrementAndGet())), true);
    }

    @Override
    protected DeadLetterStore reopen(DeadLetterStore store) {
      return new PgDeadLetterStore(pg.db, ((PgDeadLetterStore) store).table(), true);
    }
  }

  @Nested
  class Bus extends EventBusConformance {
    /** The kit runs against the bus this module provides, not a stand-in. */
    @org.junit.jupiter.api.Test
    void theKitRunsAgainstThePostgresBus() throws Exception {
      try (dev.fraiseql.observers.spi.EventBus b = createBus()) {
        org.assertj.core.api.Assertions.assertThat(b.name()).isEqualTo("postgres");
      }
    }

    @Override
    protected EventBus createBus() {
      return new PgEventBus(pg.db, PgIdentifier.parse(pg.t("conf_events")), true, Duration.ofMillis(200));
    }
  }
}
