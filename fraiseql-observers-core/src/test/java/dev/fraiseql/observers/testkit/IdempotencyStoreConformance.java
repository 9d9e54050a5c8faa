package dev.fraiseql.observers.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.spi.IdempotencyStore;
import dev.fraiseql.observers.spi.IdempotencyStore.Claim;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The conformance kit every {@link IdempotencyStore} runs: the claim / complete / release protocol,
 * expiry of abandoned claims, and exactly one winner among concurrent claimers.
 */
public abstract class IdempotencyStoreConformance {

  protected abstract IdempotencyStore createStore() throws Exception;

  private static Claim claim(IdempotencyStore s, String key, String listener, Duration ttl) throws Exception {
    return s.claim(key, listener, ttl).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static String key() {
    return UUID.randomUUID().toString();
  }

  @Test
  public void claimCompleteThenDuplicate() throws Exception {
    IdempotencyStore s = createStore();
    String k = key();
    assertThat(claim(s, k, "billing", Duration.ofMinutes(1))).isEqualTo(Claim.CLAIMED);
    assertThat(claim(s, k, "billing", Duration.ofMinutes(1))).isEqualTo(Claim.BUSY);
    s.complete(k, "billing").toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(claim(s, k, "billing", Duration.ofMinutes(1))).isEqualTo(Claim.DONE);
    assertThat(claim(s, k, "ledger", Duration.ofMinutes(1))).as("another listener, same key").isEqualTo(Claim.CLAIMED);
  }

  @Test
  public void releasedClaimCanBeClaimedAgain() throws Exception {
    IdempotencyStore s = createStore();
    String k = key();
    assertThat(claim(s, k, "billing", Duration.ofMinutes(1))).isEqualTo(Claim.CLAIMED);
    s.release(k, "billing").toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(claim(s, k, "billing", Duration.ofMinutes(1))).isEqualTo(Claim.CLAIMED);
  }

  @Test
  public void anAbandonedClaimExpires() throws Exception {
    IdempotencyStore s = createStore();
    String k = key();
    assertThat(claim(s, k, "billing", Duration.ofMillis(300))).isEqualTo(Claim.CLAIMED);
    assertThat(claim(s, k, "billing", Duration.ofMillis(300))).isEqualTo(Claim.BUSY);
    Thread.sleep(700);
    expireNow();
    assertThat(claim(s, k, "billing", Duration.ofMinutes(1))).isEqualTo(Claim.CLAIMED);
  }

  /** For stores on a virtual clock: move it past the TTL. Real-time stores need nothing. */
  protected void expireNow() throws Exception {}

  @Test
  public void concurrentClaimersHaveExactlyOneWinner() throws Exception {
    IdempotencyStore s = createStore();
    String k = key();
    int threads = 16;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch go = new CountDownLatch(1);
      List<Future<Claim>> results = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        results.add(pool.submit(() -> {
          go.await();
          return claim(s, k, "billing", Duration.ofMinutes(1));
        }));
      }
      go.countDown();
      int claimed = 0;
      for (Future<Claim> f : results) {
        Claim c = f.get(20, TimeUnit.SECONDS);
        assertThat(c).isIn(Claim.CLAIMED, Claim.BUSY);
        if (c == Claim.CLAIMED) {
          claimed++;
        }
      }
      assertThat(claimed).isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
  }
}
