package dev.fraiseql.observers.pg;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.pg.internal.PgIdempotencyStore;
import dev.fraiseql.observers.pg.internal.PgIdentifier;
import dev.fraiseql.observers.spi.IdempotencyStore.Claim;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
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
}
