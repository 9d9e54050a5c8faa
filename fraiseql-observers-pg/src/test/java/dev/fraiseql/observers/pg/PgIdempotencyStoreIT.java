package dev.fraiseql.observers.pg;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.pg.internal.PgIdempotencyStore;
import dev.fraiseql.observers.pg.internal.PgIdentifier;
import dev.fraiseql.observers.spi.IdempotencyStore.Claim;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PgIdempotencyStoreIT {
  static PgTestSupport pg;

  @BeforeAll
  static void setUp() {
    pg = new PgTestSupport();
  }

  @AfterAll
  static void tearDown() {
    pg.close();
  }

  private PgIdempotencyStore store(String table) {
    return new PgIdempotencyStore(pg.db, PgIdentifier.parse(pg.t(table)), true, 10_000);
  }

  private PgIdempotencyStore store(String table, int writers) {
    return new PgIdempotencyStore(pg.db, PgIdentifier.parse(pg.t(table)), true, 10_000, writers);
  }

  private static String reloptions(String table) {
    try (Connection c = pg.ds().getConnection(); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT coalesce(array_to_string(reloptions, ','), '') FROM pg_class"
             + " WHERE oid = '" + table + "'::regclass")) {
      rs.next();
      return rs.getString(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Claim claim(PgIdempotencyStore s, String key, String listener, Duration ttl) throws Exception {
    return s.claim(key, listener, ttl).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void claimCompleteReleaseLifecycle() throws Exception {
    try (PgIdempotencyStore s = store("idem_lifecycle")) {
      assertThat(claim(s, "e1:h", "h", Duration.ofMinutes(1))).isEqualTo(Claim.CLAIMED);
      assertThat(claim(s, "e1:h", "h", Duration.ofMinutes(1))).isEqualTo(Claim.BUSY);
      // a failing delivery releases its key: the retry claims it again (retried, not skipped)
      s.release("e1:h", "h").toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertThat(pg.count("SELECT count(*) FROM " + pg.t("idem_lifecycle"))).isZero();
      assertThat(claim(s, "e1:h", "h", Duration.ofMinutes(1))).isEqualTo(Claim.CLAIMED);
      s.complete("e1:h", "h").toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertThat(claim(s, "e1:h", "h", Duration.ofMinutes(1))).isEqualTo(Claim.DONE);
      // the same key for another listener is independent
      assertThat(claim(s, "e1:h", "other", Duration.ofMinutes(1))).isEqualTo(Claim.CLAIMED);
      assertThat(pg.count("SELECT count(*) FROM " + pg.t("idem_lifecycle")
          + " WHERE idempotency_key = 'e1:h' AND listener_id = 'h' AND claimed_until IS NULL AND processed_at <= now()"))
          .isEqualTo(1);
    }
  }

  @Test
  void expiredClaimIsTakenOverAndReleaseNeverDeletesAnotherInstancesClaim() throws Exception {
    try (PgIdempotencyStore a = store("idem_expiry"); PgIdempotencyStore b = store("idem_expiry")) {
      assertThat(claim(a, "e2:h", "h", Duration.ofMillis(300))).isEqualTo(Claim.CLAIMED);
      assertThat(claim(b, "e2:h", "h", Duration.ofMinutes(1))).isEqualTo(Claim.BUSY);
      // b's release must not free a's live claim
      b.release("e2:h", "h").toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertThat(claim(b, "e2:h", "h", Duration.ofMinutes(1))).isEqualTo(Claim.BUSY);
      // a "dies": its claim expires and b takes it over
      PgTestSupport.await(Duration.ofSeconds(10), () -> {
        try {
          return claim(b, "e2:h", "h", Duration.ofMinutes(1)) == Claim.CLAIMED;
        } catch (Exception e) {
          throw new AssertionError(e);
        }
      });
      // the late release of the dead owner does not free b's claim
      a.release("e2:h", "h").toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertThat(claim(a, "e2:h", "h", Duration.ofMinutes(1))).isEqualTo(Claim.BUSY);
      b.complete("e2:h", "h").toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertThat(claim(a, "e2:h", "h", Duration.ofMinutes(1))).isEqualTo(Claim.DONE);
    }
  }

  @Test
  void concurrentDuplicateClaimsAcrossInstancesYieldOneWinner() throws Exception {
    List<PgIdempotencyStore> stores = List.of(store("idem_race"), store("idem_race"), store("idem_race"));
    ExecutorService pool = Executors.newFixedThreadPool(12);
    try {
      for (int round = 0; round < 20; round++) {
        String key = "race-" + round + ":h";
        CountDownLatch go = new CountDownLatch(1);
        List<CompletableFuture<Claim>> results = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
          PgIdempotencyStore s = stores.get(i % stores.size());
          results.add(CompletableFuture.supplyAsync(() -> {
            try {
              go.await();
              return claim(s, key, "h", Duration.ofMinutes(1));
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          }, pool));
        }
        go.countDown();
        long claimed = 0;
        for (CompletableFuture<Claim> f : results) {
          Claim c = f.get(20, TimeUnit.SECONDS);
          assertThat(c).isIn(Claim.CLAIMED, Claim.BUSY);
          if (c == Claim.CLAIMED) {
            claimed++;
          }
        }
        assertThat(claimed).as("round %d", round).isEqualTo(1);
      }
    } finally {
      pool.shutdownNow();
      stores.forEach(PgIdempotencyStore::close);
    }
  }

  @Test
  void manyConcurrentClaimsAreBatched() throws Exception {
    try (PgIdempotencyStore s = store("idem_batch")) {
      claim(s, "warmup", "h", Duration.ofMinutes(1)); // creates the table
      long before = s.roundTrips();
      List<CompletableFuture<Claim>> fs = new ArrayList<>();
      for (int i = 0; i < 2000; i++) {
        fs.add(s.claim("k" + i, "h", Duration.ofMinutes(1)).toCompletableFuture());
      }
      for (CompletableFuture<Claim> f : fs) {
        assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo(Claim.CLAIMED);
      }
      long trips = s.roundTrips() - before;
      assertThat(trips).as("round trips for 2000 claims").isLessThan(200);
      assertThat(pg.count("SELECT count(*) FROM " + pg.t("idem_batch") + " WHERE claimed_until IS NOT NULL"))
          .isEqualTo(2001);
    }
  }

  @Test
  void seedTableWithOnlyTheThreeColumnsIsExtendedAndItsRowsCountAsProcessed() throws Exception {
    String table = pg.t("observer_idempotency_keys");
    pg.exec("CREATE TABLE " + table + " (idempotency_key TEXT NOT NULL, listener_id TEXT NOT NULL,"
        + " processed_at TIMESTAMPTZ NOT NULL DEFAULT NOW(), PRIMARY KEY (idempotency_key, listener_id))");
    pg.exec("INSERT INTO " + table + " (idempotency_key, listener_id) VALUES ('old:h', 'h')");
    try (PgIdempotencyStore s = store("observer_idempotency_keys")) {
      assertThat(claim(s, "old:h", "h", Duration.ofMinutes(1))).isEqualTo(Claim.DONE);
      assertThat(claim(s, "new:h", "h", Duration.ofMinutes(1))).isEqualTo(Claim.CLAIMED);
    }
  }

  @Test
  void aNewTableGetsFillfactor60AndCompletionsAreHotUpdates() throws Exception {
    String table = pg.t("idem_hot");
    try (PgIdempotencyStore s = store("idem_hot", 2)) {
      claim(s, "warmup", "h", Duration.ofMinutes(1));
      assertThat(reloptions(table)).isEqualTo("fillfactor=60");
      List<CompletableFuture<Void>> done = new ArrayList<>();
      List<CompletableFuture<Claim>> claims = new ArrayList<>();
      for (int i = 0; i < 3000; i++) {
        String key = String.format("0193%012x-%08d", 1L, i);
        claims.add(s.claim(key, "h", Duration.ofMinutes(1)).toCompletableFuture());
      }
      for (int i = 0; i < claims.size(); i++) {
        assertThat(claims.get(i).get(30, TimeUnit.SECONDS)).isEqualTo(Claim.CLAIMED);
        done.add(s.complete(String.format("0193%012x-%08d", 1L, i), "h").toCompletableFuture());
      }
      for (CompletableFuture<Void> f : done) {
        f.get(30, TimeUnit.SECONDS);
      }
    }
    assertThat(pg.count("SELECT count(*) FROM " + table + " WHERE claimed_until IS NULL AND claim_token IS NULL"))
        .isEqualTo(3000);
    // the statistics arrive asynchronously: wait for the 3000 updates to be counted
    PgTestSupport.await(Duration.ofSeconds(20), () -> pg.count("SELECT n_tup_upd FROM pg_stat_user_tables"
        + " WHERE relid = '" + table + "'::regclass") >= 3000);
    long updates = pg.count("SELECT n_tup_upd FROM pg_stat_user_tables WHERE relid = '" + table + "'::regclass");
    long hot = pg.count("SELECT n_tup_hot_upd FROM pg_stat_user_tables WHERE relid = '" + table + "'::regclass");
    assertThat(hot).as("HOT updates of %d", updates).isGreaterThanOrEqualTo(updates * 9 / 10);
  }

  @Test
  void anExistingV1TableIsUpgradedInPlaceAndAFillfactorChosenByTheUserIsKept() throws Exception {
    // a table as V1 created it before V5, with a finished key and a live claim of another instance
    String table = pg.t("idem_v1");
    pg.exec(v1Table(table));
    pg.exec("INSERT INTO " + table + " (idempotency_key, listener_id) VALUES ('done:h', 'h')");
    pg.exec("INSERT INTO " + table + " (idempotency_key, listener_id, claimed_until, claim_token)"
        + " VALUES ('busy:h', 'h', now() + interval '1 hour', 'another-instance')");
    assertThat(reloptions(table)).isEmpty();
    try (PgIdempotencyStore s = store("idem_v1", 3)) {
      assertThat(claim(s, "done:h", "h", Duration.ofMinutes(1))).isEqualTo(Claim.DONE);
      assertThat(claim(s, "busy:h", "h", Duration.ofMinutes(1))).isEqualTo(Claim.BUSY);
      assertThat(claim(s, "new:h", "h", Duration.ofMinutes(1))).isEqualTo(Claim.CLAIMED);
    }
    assertThat(reloptions(table)).isEqualTo("fillfactor=60");
    assertThat(pg.count("SELECT count(*) FROM " + table)).isEqualTo(3);
    assertThat(pg.count("SELECT count(*) FROM " + table + " WHERE claim_token = 'another-instance'")).isEqualTo(1);

    String own = pg.t("idem_own_ff");
    pg.exec(v1Table(own));
    pg.exec("ALTER TABLE " + own + " SET (fillfactor = 85, autovacuum_enabled = true)");
    try (PgIdempotencyStore s = store("idem_own_ff")) {
      assertThat(claim(s, "k", "h", Duration.ofMinutes(1))).isEqualTo(Claim.CLAIMED);
    }
    assertThat(reloptions(own)).isEqualTo("fillfactor=85,autovacuum_enabled=true");
  }

  /** V1's DDL as shipped before V5 (the part that matters: no reloptions). */
  private static String v1Table(String table) {
    return "CREATE TABLE " + table + " (idempotency_key TEXT NOT NULL, listener_id TEXT NOT NULL,"
        + " processed_at TIMESTAMPTZ NOT NULL DEFAULT NOW(), claimed_until TIMESTAMPTZ NULL, claim_token TEXT NULL,"
        + " PRIMARY KEY (idempotency_key, listener_id))";
  }

  @Test
  void severalWritersKeepEachKeysOperationsInOrderAndShareOneRoundTripPerBatch() throws Exception {
    try (PgIdempotencyStore s = store("idem_writers", 3)) {
      assertThat(s.writers()).isEqualTo(3);
      claim(s, "first", "h", Duration.ofMinutes(1));
      int n = 600;
      List<CompletableFuture<Claim>> first = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        first.add(s.claim("w" + i, "h", Duration.ofMinutes(1)).toCompletableFuture());
      }
      for (CompletableFuture<Claim> f : first) {
        assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo(Claim.CLAIMED);
      }
      long before = s.roundTrips();
      // without waiting: even keys fail (release, then the retry claims again at once), odd keys
      // complete (then a duplicate claims), and new keys are claimed, all in the same batches
      List<CompletableFuture<Claim>> retries = new ArrayList<>();
      List<CompletableFuture<Claim>> duplicates = new ArrayList<>();
      List<CompletableFuture<Claim>> fresh = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        if (i % 2 == 0) {
          s.release("w" + i, "h");
          retries.add(s.claim("w" + i, "h", Duration.ofMinutes(1)).toCompletableFuture());
        } else {
          s.complete("w" + i, "h");
          duplicates.add(s.claim("w" + i, "h", Duration.ofMinutes(1)).toCompletableFuture());
        }
        fresh.add(s.claim("x" + i, "h", Duration.ofMinutes(1)).toCompletableFuture());
      }
      for (CompletableFuture<Claim> f : retries) {
        assertThat(f.get(30, TimeUnit.SECONDS)).as("a retry after its release").isEqualTo(Claim.CLAIMED);
      }
      for (CompletableFuture<Claim> f : duplicates) {
        assertThat(f.get(30, TimeUnit.SECONDS)).as("a duplicate after its completion").isEqualTo(Claim.DONE);
      }
      for (CompletableFuture<Claim> f : fresh) {
        assertThat(f.get(30, TimeUnit.SECONDS)).isEqualTo(Claim.CLAIMED);
      }
      // 2,400 operations; the duplicates need the second round trip of their batch
      assertThat(s.roundTrips() - before).as("round trips").isLessThan(120);
    }
    String t = pg.t("idem_writers");
    assertThat(pg.count("SELECT count(*) FROM " + t + " WHERE idempotency_key LIKE 'w%' AND claimed_until IS NULL"))
        .isEqualTo(300);
    assertThat(pg.count("SELECT count(*) FROM " + t + " WHERE idempotency_key LIKE 'w%' AND claimed_until IS NOT NULL"))
        .isEqualTo(300);
    assertThat(pg.count("SELECT count(*) FROM " + t + " WHERE idempotency_key LIKE 'x%' AND claimed_until IS NOT NULL"))
        .isEqualTo(600);
  }

  @Test
  void whenTheTableIsMissingEveryOperationFailsInsteadOfHanging() throws Exception {
    try (PgIdempotencyStore s = new PgIdempotencyStore(pg.db, PgIdentifier.parse(pg.t("idem_missing")), false,
        10_000, 2)) {
      for (CompletableFuture<?> f : List.of(s.claim("a", "h", Duration.ofMinutes(1)).toCompletableFuture(),
          s.complete("b", "h").toCompletableFuture(), s.release("c", "h").toCompletableFuture())) {
        assertThat(f).failsWithin(Duration.ofSeconds(10)).withThrowableOfType(ExecutionException.class)
            .havingCause().isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42P01"));
      }
    }
  }

  @Test
  void engineWithEffectivelyOnceDeliversEachEventOnceAndRetriesFailuresThroughReleasedClaims() throws Exception {
    String idem = pg.t("idem_engine");
    String toml = "[observers]\nbackend = \"postgres\"\ndatabase_url = \"" + PgTestSupport.URL + "\"\n"
        + "checkpoint_strategy = \"effectively_once\"\nidempotency_table = \"" + idem + "\"\n\n"
        + "[observers.postgres]\nidempotency_writers = 3\ndead_letter_table = \"" + pg.t("idem_engine_dl") + "\"\n\n"
        + "[[observers.handlers]]\nname = \"ledger\"\nevent = \"order.created\"\naction = \"handler\"\n"
        + "handler = \"ledger\"\nmax_attempts = 3\ninitial_delay_ms = 10\n";
    Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    Map<String, AtomicInteger> successes = new ConcurrentHashMap<>();
    List<ObservedEvent> events = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      events.add(ObservedEvent.insert("tb_order", Map.of("id", "o-" + i, "n", i)));
    }
    try (ObserverEngine engine = ObserverEngine.builder().configToml(toml).handler("ledger", e -> {
      String id = e.id().toString();
      int call = calls.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
      int n = ((Number) e.newRow().orElseThrow().get("n")).intValue();
      if (n % 10 == 0 && call == 1) {
        throw new IllegalStateException("first attempt of every 10th event fails");
      }
      successes.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
    }).build()) {
      List<CompletableFuture<?>> all = new ArrayList<>();
      for (ObservedEvent e : events) {
        all.add(engine.onCommit(e).completion().toCompletableFuture());
      }
      // every event twice more: duplicates, skipped
      for (ObservedEvent e : events.subList(0, 500)) {
        all.add(engine.onCommit(e).completion().toCompletableFuture());
      }
      CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).get(120, TimeUnit.SECONDS);
    }
    assertThat(successes).hasSize(events.size());
    assertThat(successes.values()).allSatisfy(c -> assertThat(c.get()).isEqualTo(1));
    Map<Integer, Integer> callsPerEvent = new HashMap<>();
    for (ObservedEvent e : events) {
      int n = ((Number) e.newRow().orElseThrow().get("n")).intValue();
      callsPerEvent.merge(calls.get(e.id().toString()).get(), 1, Integer::sum);
      if (n % 10 == 0) {
        assertThat(calls.get(e.id().toString()).get()).isEqualTo(2);
      }
    }
    assertThat(callsPerEvent).containsOnlyKeys(1, 2);
    assertThat(pg.count("SELECT count(*) FROM " + idem + " WHERE listener_id = 'ledger' AND claimed_until IS NULL"))
        .isEqualTo(events.size());
    assertThat(pg.count("SELECT count(*) FROM " + idem)).isEqualTo(events.size());
  }
}
