package dev.fraiseql.observers.redis;

import static dev.fraiseql.observers.redis.RedisTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.Dispatch;
import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.config.CheckpointStrategy;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.RetryPolicy;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.config.SubscriptionConfig;
import dev.fraiseql.observers.spi.DeadLetter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/** End to end through {@link ObserverEngine} with {@code backend = "redis"}, found with ServiceLoader. */
class RedisEngineIT {
  private String prefix;

  @BeforeEach
  void setUp() {
    prefix = RedisTestSupport.uniquePrefix();
  }

  @AfterEach
  void tearDown() {
    RedisTestSupport.cleanup(prefix);
  }

  private ObserversConfig config() {
    RetryPolicy quick = RetryPolicy.custom().maxAttempts(3).initialDelay(Duration.ofMillis(50))
        .maxDelay(Duration.ofMillis(200)).jitter(0).build();
    return ObserversConfig.builder()
        .backend("redis")
        .backendSettings(Settings.of("[observers]", Map.of("redis_url", RedisTestSupport.url(), "key_prefix", prefix,
            "block_ms", 200L)))
        .checkpointStrategy(CheckpointStrategy.EFFECTIVELY_ONCE)
        .handler(HandlerConfig.builder("signup-event").event("user.created").action("publish")
            .settings(Settings.of("[[observers.handlers]] #1", Map.of("subject", "fraiseql.user.created")))
            .build())
        .subscription(SubscriptionConfig.builder("fraiseql.user.created", "reserveInventory").retry(quick).build())
        .build();
  }

  private static ObservedEvent user(String email) {
    return ObservedEvent.builder().operation(Operation.INSERT).table("tb_user").mutation("createUser")
        .newRow(Map.of("id", "id-" + email, "email", email, "name", "N"))
        .context(MutationContext.builder().requestId("req_" + email).build()).build();
  }

  @Test
  void commitPublishesToAStreamAndTheSubscriptionRetriesAndDeadLettersInRedis() throws Exception {
    List<String> handled = new CopyOnWriteArrayList<>();
    Set<String> failedOnce = ConcurrentHashMap.newKeySet();
    String poisonId;
    try (ObserverEngine engine = ObserverEngine.builder().config(config())
        .handler("reserveInventory", e -> {
          String email = (String) e.newRow().orElseThrow().get("email");
          if (email.startsWith("poison")) {
            throw new IllegalStateException("inventory service refused " + e.id());
          }
          if (email.startsWith("flaky") && failedOnce.add(email)) {
            throw new IllegalStateException("inventory service timed out");
          }
          handled.add(email);
        })
        .build()) {
      ObservedEvent alice = user("alice@example.com");
      Dispatch ok = engine.onCommit(alice);
      List<DeliveryOutcome> outcomes = ok.completion().toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertThat(outcomes).extracting(DeliveryOutcome::handler).containsExactly("signup-event");
      assertThat(outcomes.get(0).status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
      engine.onCommit(user("flaky@example.com"));
      ObservedEvent poison = user("poison@example.com");
      poisonId = poison.id().toString();
      engine.onCommit(poison);

      assertThat(await(Duration.ofSeconds(20), () -> handled.containsAll(List.of("alice@example.com",
          "flaky@example.com")))).isTrue();
      assertThat(await(Duration.ofSeconds(20), () -> engine.deadLetters().count() == 1)).isTrue();
      DeadLetter d = engine.deadLetters().list().get(0);
      assertThat(d.event().id().toString()).isEqualTo(poisonId);
      assertThat(d.handler()).isEqualTo("reserveInventory");
      assertThat(d.subject()).contains("fraiseql.user.created");
      assertThat(d.reason()).contains("3");
      assertThat(handled).containsOnlyOnce("alice@example.com", "flaky@example.com");

      try (RedisClient raw = RedisTestSupport.raw()) {
        String key = prefix + "stream:fraiseql.user.created";
        assertThat(raw.xlen(key)).isEqualTo(3);
        // effectively_once kept its keys in Redis: both handlers of alice's event are done
        assertThat(raw.get(prefix + "idem:16:reserveInventory:" + alice.id())).isEqualTo("done");
        assertThat(raw.get(prefix + "idem:12:signup-event:" + alice.id())).isEqualTo("done");
        assertThat(await(Duration.ofSeconds(10), () -> raw.xpending(key, "fraiseql_reserveInventory").getTotal() == 0))
            .as("acked, and the dead-lettered one terminated").isTrue();
      }
    }
    // the host restarts: a new engine sees the dead letter kept in Redis
    try (ObserverEngine again = ObserverEngine.builder().config(config())
        .handler("reserveInventory", e -> handled.add("replayed:" + e.newRow().orElseThrow().get("email")))
        .build()) {
      List<DeadLetter> letters = again.deadLetters().list();
      assertThat(letters).hasSize(1);
      assertThat(letters.get(0).event().id().toString()).isEqualTo(poisonId);
      DeliveryOutcome replay = again.deadLetters().replay(letters.get(0).id()).toCompletableFuture()
          .get(10, TimeUnit.SECONDS);
      assertThat(replay.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
      assertThat(handled).contains("replayed:poison@example.com");
      assertThat(await(Duration.ofSeconds(5), () -> again.deadLetters().count() == 0)).isTrue();
    }
  }

  @Test
  void theReadmeTomlRunsAsWritten() throws Exception {
    String toml = ""
        + "[observers]\n"
        + "backend = \"redis\"\n"
        + "redis_url = \"${REDIS_URL}\"\n"
        + "checkpoint_strategy = \"effectively_once\"\n"
        + "\n"
        + "[observers.redis]\n"
        + "key_prefix = \"" + prefix + "\"\n"
        + "max_len = 100000\n"
        + "claim_idle_ms = 30000\n"
        + "block_ms = 200\n"
        + "\n"
        + "[[observers.handlers]]\n"
        + "name = \"order-created\"\n"
        + "table = \"tb_order\"\n"
        + "operation = \"INSERT\"\n"
        + "action = \"publish\"\n"
        + "subject = \"fraiseql.order.created\"\n"
        + "\n"
        + "[[observers.subscribe]]\n"
        + "subject = \"fraiseql.order.created\"\n"
        + "handler = \"reserveInventory\"\n"
        + "durable = \"inventory\"\n"
        + "max_attempts = 5\n"
        + "backoff_strategy = \"exponential\"\n";
    List<Map<String, Object>> reserved = new CopyOnWriteArrayList<>();
    try (ObserverEngine engine = ObserverEngine.builder().config(toml, "fraiseql.toml")
        .env(Map.of("REDIS_URL", RedisTestSupport.url()))
        .handler("reserveInventory", e -> reserved.add(e.newRow().orElseThrow()))
        .build()) {
      engine.onCommit(ObservedEvent.insert("tb_order", Map.of("id", 42, "sku", "BOOK-1", "qty", 2)));
      assertThat(await(Duration.ofSeconds(20), () -> reserved.size() == 1)).isTrue();
      assertThat(reserved.get(0)).containsEntry("sku", "BOOK-1").containsEntry("qty", 2);
      try (RedisClient raw = RedisTestSupport.raw()) {
        String key = prefix + "stream:fraiseql.order.created";
        assertThat(raw.xlen(key)).isEqualTo(1);
        assertThat(raw.xinfoGroups(key)).extracting(g -> g.getName()).containsExactly("inventory");
      }
    }
  }

  @Test
  void aTypoInObserversRedisIsReportedWithItsLineAndASuggestion() {
    String toml = "[observers]\nbackend = \"redis\"\nredis_url = \"redis://admin:hunter2@localhost:6379\"\n\n"
        + "[observers.redis]\nmax_lenght = 10\n";
    assertThatThrownBy(() -> ObserverEngine.builder().config(toml, "fraiseql.toml").build())
        .isInstanceOf(ObserverConfigException.class)
        .hasMessageContaining("fraiseql.toml:6").hasMessageContaining("max_lenght").hasMessageContaining("max_len")
        .hasMessageNotContaining("hunter2");
  }

  @Test
  void unknownBackendKeysAndWildcardSubscriptionsAreConfigErrors() {
    ObserversConfig typo = config().toBuilder().backendSettings(Settings.of("[observers.redis]",
        Map.of("redis_url", RedisTestSupport.url(), "max_lenght", 10L))).build();
    assertThatThrownBy(() -> ObserverEngine.builder().config(typo).handler("reserveInventory", e -> { }).build())
        .isInstanceOf(ObserverConfigException.class)
        .hasMessageContaining("max_lenght").hasMessageContaining("max_len");

    ObserversConfig wildcard = ObserversConfig.builder().backend("redis")
        .backendSettings(Settings.of("[observers]", Map.of("redis_url", RedisTestSupport.url(), "key_prefix", prefix)))
        .subscription(SubscriptionConfig.builder("fraiseql.user.*", "reserveInventory").build()).build();
    assertThatThrownBy(() -> ObserverEngine.builder().config(wildcard).handler("reserveInventory", e -> { }).build())
        .isInstanceOf(ObserverConfigException.class)
        .hasMessageContaining("fraiseql.user.*").hasMessageContaining("wildcard");
  }
}
