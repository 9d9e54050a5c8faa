package dev.fraiseql.observers.nats.internal;

import dev.fraiseql.observers.ObserverException;
import dev.fraiseql.observers.spi.IdempotencyStore;
import io.nats.client.JetStreamApiException;
import io.nats.client.KeyValue;
import io.nats.client.api.KeyValueConfiguration;
import io.nats.client.api.KeyValueEntry;
import io.nats.client.api.KeyValueOperation;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Idempotency keys in a JetStream key-value bucket ({@code idempotency_bucket} in
 * {@code [observers.nats]}), so that effectively-once survives restarts and is shared by every
 * instance without a database. A key holds {@code claim:<expiry millis>} while a delivery runs and
 * {@code done} once it succeeded; claims are taken with the bucket's compare-and-set
 * ({@code create} / {@code update} at a revision), so concurrent claimers have exactly one winner.
 *
 * <p>Each call is one or two round trips, run on up to 4 threads of its own with at most 10 000
 * calls waiting; beyond that a call fails at once (the engine retries the delivery later).
 */
final class KvIdempotencyStore implements IdempotencyStore, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(KvIdempotencyStore.class);
  private static final int WRONG_LAST_SEQUENCE = 10071;
  private static final byte[] DONE = "done".getBytes(StandardCharsets.US_ASCII);
  private static final Base64.Encoder KEY = Base64.getUrlEncoder().withoutPadding();

  private final Supplier<NatsEventBus> bus;
  private final NatsSettings settings;
  private final String bucket;
  private final ThreadPoolExecutor executor;
  private volatile KeyValue kv;

  KvIdempotencyStore(Supplier<NatsEventBus> bus, NatsSettings settings, String bucket) {
    this.bus = bus;
    this.settings = settings;
    this.bucket = bucket;
    AtomicInteger n = new AtomicInteger();
    this.executor = new ThreadPoolExecutor(4, 4, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(10_000), r -> {
      Thread t = new Thread(r, "fraiseql-nats-kv-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    this.executor.allowCoreThreadTimeOut(true);
  }

  @Override
  public CompletionStage<Claim> claim(String key, String listenerId, Duration ttl) {
    return run(() -> {
      KeyValue b = bucket();
      String k = kvKey(key, listenerId);
      for (int round = 0; round < 3; round++) {
        byte[] claim = ("claim:" + (System.currentTimeMillis() + ttl.toMillis())).getBytes(StandardCharsets.US_ASCII);
        try {
          b.create(k, claim);
          return Claim.CLAIMED;
        } catch (JetStreamApiException e) {
          if (e.getApiErrorCode() != WRONG_LAST_SEQUENCE) {
            throw e;
          }
        }
        KeyValueEntry entry = b.get(k);
        if (entry == null || entry.getOperation() != KeyValueOperation.PUT) {
          continue; // released in between: try to create it again
        }
        String value = entry.getValueAsString();
        if ("done".equals(value)) {
          return Claim.DONE;
        }
        if (!expired(value)) {
          return Claim.BUSY;
        }
        try {
          b.update(k, claim, entry.getRevision()); // take over an abandoned claim
          return Claim.CLAIMED;
        } catch (JetStreamApiException e) {
          if (e.getApiErrorCode() != WRONG_LAST_SEQUENCE) {
            throw e;
          }
          return Claim.BUSY; // someone else took it over first
        }
      }
      return Claim.BUSY;
    });
  }

  @Override
  public CompletionStage<Void> complete(String key, String listenerId) {
    return run(() -> {
      bucket().put(kvKey(key, listenerId), DONE);
      return null;
    });
  }

  @Override
  public CompletionStage<Void> release(String key, String listenerId) {
    return run(() -> {
      bucket().delete(kvKey(key, listenerId));
      return null;
    });
  }

  private static boolean expired(String claimValue) {
    if (!claimValue.startsWith("claim:")) {
      return true;
    }
    try {
      return Long.parseLong(claimValue.substring(6)) <= System.currentTimeMillis();
    } catch (NumberFormatException e) {
      return true;
    }
  }

  /** Any listener id and key, as a valid KV key: {@code <base64url(listener)>.<base64url(key)>}. */
  static String kvKey(String key, String listenerId) {
    return KEY.encodeToString(listenerId.getBytes(StandardCharsets.UTF_8)) + "."
        + KEY.encodeToString(key.getBytes(StandardCharsets.UTF_8));
  }

  private KeyValue bucket() throws Exception {
    KeyValue b = kv;
    if (b != null) {
      return b;
    }
    synchronized (this) {
      if (kv == null) {
        NatsConnector.Live live = bus.get().connector().await(settings.publishTimeout)
            .orElseThrow(() -> new ObserverException("not connected to NATS at " + settings.redactedServers()
                + " yet: idempotency bucket " + bucket + " unavailable"));
        try {
          live.connection().keyValueManagement().getStatus(bucket);
        } catch (JetStreamApiException e) {
          live.connection().keyValueManagement().create(KeyValueConfiguration.builder()
              .name(bucket).storageType(settings.storage).replicas(settings.replicas).build());
          log.info("[observer] created JetStream key-value bucket {} for idempotency keys", bucket);
        }
        kv = live.connection().keyValue(bucket);
      }
      return kv;
    }
  }

  private interface Call<T> {
    T call() throws Exception;
  }

  private <T> CompletionStage<T> run(Call<T> call) {
    CompletableFuture<T> f = new CompletableFuture<>();
    try {
      executor.execute(() -> {
        try {
          f.complete(call.call());
        } catch (IOException | JetStreamApiException e) {
          f.completeExceptionally(new ObserverException("idempotency bucket " + bucket + " on NATS: "
              + NatsConnector.describe(e), e));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          f.completeExceptionally(e);
        } catch (Exception e) {
          f.completeExceptionally(e);
        }
      });
    } catch (RejectedExecutionException e) {
      f.completeExceptionally(new ObserverException("idempotency bucket " + bucket
          + " is overloaded: 10000 calls wait for NATS", e));
    }
    return f;
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }

  @Override
  public String toString() {
    return "NATS key-value idempotency store (bucket " + bucket + ")";
  }
}
