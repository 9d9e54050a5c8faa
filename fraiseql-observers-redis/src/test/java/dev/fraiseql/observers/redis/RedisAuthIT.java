package dev.fraiseql.observers.redis;

import static dev.fraiseql.observers.redis.RedisTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.redis.internal.RedisBackend;
import dev.fraiseql.observers.redis.internal.RedisSettings;
import dev.fraiseql.observers.spi.BusSubscription;
import dev.fraiseql.observers.spi.DeadLetterQuery;
import dev.fraiseql.observers.spi.Disposition;
import dev.fraiseql.observers.spi.EventBus;
import dev.fraiseql.observers.spi.IdempotencyStore;
import dev.fraiseql.observers.spi.OutboundMessage;
import dev.fraiseql.observers.spi.SubscriptionSpec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.Protocol;

/** An ACL user with a password in {@code redis_url}, limited to the test's key prefix. */
class RedisAuthIT {
  private final String prefix = RedisTestSupport.uniquePrefix();
  private final String user = "fq_" + UUID.randomUUID().toString().substring(0, 8);
  private final String password = "pw-" + UUID.randomUUID();

  @BeforeEach
  void createUser() {
    assumeTrue(RedisTestSupport.url().equals("redis://localhost:6379"), "creates an ACL user on the local server");
    try (RedisClient raw = RedisTestSupport.raw()) {
      raw.sendCommand(Protocol.Command.ACL, "SETUSER", user, "on", ">" + password, "~" + prefix + "*", "+@all");
    }
  }

  @AfterEach
  void dropUser() {
    try (RedisClient raw = RedisTestSupport.raw()) {
      raw.sendCommand(Protocol.Command.ACL, "DELUSER", user);
    }
    RedisTestSupport.cleanup(prefix);
  }

  private RedisBackend backend(String pw) {
    return new RedisBackend(RedisSettings.from(Settings.of("[observers.redis]", Map.of(
        "redis_url", "redis://" + user + ":" + pw + "@localhost:6379", "key_prefix", prefix, "block_ms", 200L,
        "timeout_ms", 1000L))));
  }

  @Test
  void busAndStoresWorkAsAnAclUser() throws Exception {
    try (RedisBackend b = backend(password)) {
      EventBus bus = b.bus();
      List<String> got = new CopyOnWriteArrayList<>();
      BusSubscription sub = bus.subscribe(new SubscriptionSpec("acl", "g", Duration.ofSeconds(30), 4, Settings.empty()),
          m -> {
            got.add(new String(m.payload(), StandardCharsets.UTF_8));
            return CompletableFuture.completedFuture(Disposition.ack());
          });
      bus.publish(new OutboundMessage("acl", "hello".getBytes(StandardCharsets.UTF_8), Map.of(), "a1"))
          .toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertThat(await(Duration.ofSeconds(10), () -> got.equals(List.of("hello")))).isTrue();
      assertThat(b.idempotencyStore().orElseThrow().claim("k", "h", Duration.ofSeconds(5)).toCompletableFuture()
          .get(5, TimeUnit.SECONDS)).isEqualTo(IdempotencyStore.Claim.CLAIMED);
      assertThat(b.deadLetterStore().orElseThrow().list(DeadLetterQuery.all())).isEmpty();
      sub.close();
    }
  }

  @Test
  void aWrongPasswordFailsWithoutShowingIt() {
    String wrong = "not-the-" + password;
    try (RedisBackend b = backend(wrong)) {
      CompletableFuture<?> f = b.bus().publish(new OutboundMessage("acl", new byte[] {1}, Map.of(), "a2"))
          .toCompletableFuture();
      assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
          .satisfies(e -> assertThat(e.getCause().getMessage()).doesNotContain(wrong).contains("***@localhost"));
      assertThatThrownBy(() -> b.deadLetterStore().orElseThrow().count())
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain(wrong).containsIgnoringCase("WRONGPASS"));
    }
  }
}
