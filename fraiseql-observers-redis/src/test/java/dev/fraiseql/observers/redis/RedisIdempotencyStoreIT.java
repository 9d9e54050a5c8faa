package dev.fraiseql.observers.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.redis.internal.RedisBackend;
import dev.fraiseql.observers.spi.IdempotencyStore;
import dev.fraiseql.observers.spi.IdempotencyStore.Claim;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

class RedisIdempotencyStoreIT {
  private String prefix;
  private RedisBackend backend;
  private RedisBackend other;
  private IdempotencyStore store;

  @BeforeEach
  void setUp() {
    prefix = RedisTestSupport.uniquePrefix();
    backend = RedisTestSupport.backend(prefix, Map.of());
    other = RedisTestSupport.backend(prefix, Map.of());
    store = backend.idempotencyStore().orElseThrow();
  }

  @AfterEach
  void tearDown() {
    backend.close();
    other.close();
    RedisTestSupport.cleanup(prefix);
  }

  private static Claim get(java.util.concurrent.CompletionStage<Claim> s) throws Exception {
    return s.toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @Test
  void concurrentDuplicatesAcrossInstancesExactlyOneClaims() throws Exception {
    IdempotencyStore a = store;
    IdempotencyStore b = other.idempotencyStore().orElseThrow();
    String key = UUID.randomUUID().toString();
    int threads = 32;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<Claim>> results = new ArrayList<>();
    for (int i = 0; i < threads; i++) {
      IdempotencyStore s = i % 2 == 0 ? a : b;
      results.add(pool.submit((Callable<Claim>) () -> {
        start.await();
        return get(s.claim(key, "billing", Duration.ofSeconds(30)));
      }));
    }
    start.countDown();
    int claimed = 0;
    int busy = 0;
    for (Future<Claim> f : results) {
      Claim c = f.get(10, TimeUnit.SECONDS);
      if (c == Claim.CLAIMED) {
        claimed++;
      } else if (c == Claim.BUSY) {
        busy++;
      }
    }
    pool.shutdown();
    assertThat(claimed).isEqualTo(1);
    assertThat(busy).isEqualTo(threads - 1);
  }

  @Test
  void completedKeysAnswerDoneEvenToAnotherInstance() throws Exception {
    String key = UUID.randomUUID().toString();
    assertThat(get(store.claim(key, "ledger", Duration.ofSeconds(30)))).isEqualTo(Claim.CLAIMED);
    store.complete(key, "ledger").toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertThat(get(store.claim(key, "ledger", Duration.ofSeconds(30)))).isEqualTo(Claim.DONE);
    assertThat(get(other.idempotencyStore().orElseThrow().claim(key, "ledger", Duration.ofSeconds(30))))
        .isEqualTo(Claim.DONE);
    // another listener of the same event is independent
    assertThat(get(store.claim(key, "audit", Duration.ofSeconds(30)))).isEqualTo(Claim.CLAIMED);
    // the done marker expires after idempotency_ttl_ms (7 days by default)
    try (RedisClient raw = RedisTestSupport.raw()) {
      long ttl = raw.pttl(prefix + "idem:6:ledger:" + key);
      assertThat(ttl).isBetween(Duration.ofDays(7).toMillis() - 60_000, Duration.ofDays(7).toMillis());
    }
  }

  @Test
  void releaseLetsTheRetryClaimAgainButOnlyTheHolderCanRelease() throws Exception {
    String key = UUID.randomUUID().toString();
    IdempotencyStore b = other.idempotencyStore().orElseThrow();
    assertThat(get(store.claim(key, "h", Duration.ofSeconds(30)))).isEqualTo(Claim.CLAIMED);
    // a non-holder's release does nothing
    b.release(key, "h").toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertThat(get(b.claim(key, "h", Duration.ofSeconds(30)))).isEqualTo(Claim.BUSY);
    store.release(key, "h").toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertThat(get(b.claim(key, "h", Duration.ofSeconds(30)))).isEqualTo(Claim.CLAIMED);
  }

  @Test
  void anAbandonedClaimExpiresAndAStaleHolderCannotReleaseTheNewOne() throws Exception {
    String key = UUID.randomUUID().toString();
    IdempotencyStore b = other.idempotencyStore().orElseThrow();
    assertThat(get(store.claim(key, "h", Duration.ofMillis(150)))).isEqualTo(Claim.CLAIMED);
    assertThat(RedisTestSupport.await(Duration.ofSeconds(5), () -> {
      try {
        return get(b.claim(key, "h", Duration.ofSeconds(30))) == Claim.CLAIMED;
      } catch (Exception e) {
        return false;
      }
    })).isTrue();
    // the first holder wakes up and fails: its release must not free b's claim
    store.release(key, "h").toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertThat(get(store.claim(key, "h", Duration.ofSeconds(30)))).isEqualTo(Claim.BUSY);
  }

  @Test
  void doneKeysCanBeKeptForever() throws Exception {
    try (RedisBackend forever = RedisTestSupport.backend(prefix, Map.of("idempotency_ttl_ms", 0L));
        RedisClient raw = RedisTestSupport.raw()) {
      IdempotencyStore s = forever.idempotencyStore().orElseThrow();
      String key = UUID.randomUUID().toString();
      assertThat(get(s.claim(key, "h", Duration.ofSeconds(30)))).isEqualTo(Claim.CLAIMED);
      s.complete(key, "h").toCompletableFuture().get(5, TimeUnit.SECONDS);
      assertThat(raw.pttl(prefix + "idem:1:h:" + key)).isEqualTo(-1L);
    }
  }
}
