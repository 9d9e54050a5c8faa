package dev.fraiseql.observers.internal.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.config.BackoffStrategy;
import dev.fraiseql.observers.config.CheckpointStrategy;
import dev.fraiseql.observers.config.ConfigProblem;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.OverflowPolicy;
import dev.fraiseql.observers.config.RetryPolicy;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.config.SubscriptionConfig;
import dev.fraiseql.observers.config.Trigger;
import dev.fraiseql.observers.internal.condition.ConditionCompiler;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class TomlConfigLoaderTest {
  static final Map<String, String> ENV = new HashMap<>(Map.of(
      "NATS_URL", "nats://user:s3cr3t@localhost:4222",
      "USER_CREATED_WEBHOOK_URL", "https://hooks.example.com/user-created?token=s3cr3t",
      "WELCOME_EMAIL_WEBHOOK_URL", "https://email-svc/hooks/fraiseql",
      "WELCOME_EMAIL_SERVICE_URL", "https://email-svc/hooks/fraiseql",
      "NOTIFICATION_SERVICE_URL", "https://notify/hooks/fraiseql",
      "PROJECTION_SERVICE_URL", "https://projection/hooks/fraiseql",
      "EVENT_BUS_INGEST_URL", "https://events/ingest",
      "STRIPE_WEBHOOK_URL", "https://stripe-bridge/hooks"));

  static {
    ENV.put("TENANT", "acme");
    ENV.put("SECRET_TENANT", "s3cr3t ==");
    ENV.put("STRATEGY", "s3cr3t");
  }
  static final Function<String, Optional<String>> ENV_LOOKUP = k -> Optional.ofNullable(ENV.get(k));

  static String seed(String name) {
    try (InputStream in = TomlConfigLoaderTest.class.getResourceAsStream("/seeds/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static ObserversConfig load(String toml) {
    return TomlConfigLoader.load(toml, "fraiseql.toml", ENV_LOOKUP);
  }

  static ObserverConfigException fail(String toml) {
    return fail(toml, ENV_LOOKUP);
  }

  static ObserverConfigException fail(String toml, Function<String, Optional<String>> env) {
    ObserverConfigException e = catchThrowableOfType(ObserverConfigException.class,
        () -> TomlConfigLoader.load(toml, "fraiseql.toml", env));
    assertThat(e).as("expected the config to be rejected").isNotNull();
    assertThat(e.getMessage()).doesNotContain("s3cr3t");
    return e;
  }

  static List<String> problems(ObserverConfigException e) {
    return e.problems().stream().map(ConfigProblem::toString).collect(Collectors.toList());
  }

  static String lines(String... lines) {
    return String.join("\n", lines) + "\n";
  }

  // ---------------------------------------------------------------------------------------------
  // the seeds, verbatim

  @Test
  void seed000NatsRules() {
    ObserversConfig c = load(seed("seed000-nats-rules.toml"));
    assertThat(c.backend()).isEqualTo("nats");
    assertThat(c.backendSettings().string("nats_url")).contains("nats://user:s3cr3t@localhost:4222");
    assertThat(c.backendSettings().location("nats_url").toString()).isEqualTo("fraiseql.toml:5:1");
    assertThat(c.handlers()).hasSize(2);
    HandlerConfig created = c.handlers().get(0);
    assertThat(created.name()).isEqualTo("fraiseql.order.created");
    assertThat(created.trigger()).isEqualTo(Trigger.table("tb_order", Operation.INSERT));
    assertThat(created.action()).isEqualTo("publish");
    assertThat(created.settings().asMap()).isEqualTo(Map.of("subject", "fraiseql.order.created"));
    assertThat(created.location().toString()).isEqualTo("fraiseql.toml:6:1");
    assertThat(created.location().section()).isEqualTo("[[observers]] #1");
    HandlerConfig updated = c.handlers().get(1);
    assertThat(updated.name()).isEqualTo("fraiseql.order.updated");
    assertThat(updated.trigger()).isEqualTo(Trigger.table("tb_order", Operation.UPDATE));
    assertThat(updated.settings().string("subject")).contains("fraiseql.order.updated");
    assertThat(c.toString()).doesNotContain("s3cr3t");
  }

  @Test
  void seed000WebhookRule() {
    ObserversConfig c = load(seed("seed000-webhook-rule.toml"));
    assertThat(c.backend()).isEqualTo("webhook");
    assertThat(c.handlers()).hasSize(1);
    HandlerConfig h = c.handlers().get(0);
    assertThat(h.name()).isEqualTo("tb_user.insert.webhook");
    assertThat(h.trigger()).isEqualTo(Trigger.table("tb_user", Operation.INSERT));
    assertThat(h.action()).isEqualTo("webhook");
    assertThat(h.settings().asMap()).isEqualTo(Map.of("url", "https://hooks.example.com/user-created?token=s3cr3t"));
    assertThat(h.settings().location("url").toString()).isEqualTo("fraiseql.toml:9:1");
    assertThat(h.location().section()).isEqualTo("[[observers.actions]] #1 of [[observers]] #1");
  }

  @Test
  void seed000InventorySubscription() {
    ObserversConfig c = load(seed("seed000-inventory-subscribe.toml"));
    assertThat(c.backend()).isEqualTo("nats");
    assertThat(c.handlers()).isEmpty();
    assertThat(c.subscriptions()).hasSize(1);
    SubscriptionConfig s = c.subscriptions().get(0);
    assertThat(s.subject()).isEqualTo("fraiseql.order.created");
    assertThat(s.handler()).isEqualTo("fn_reserve_inventory");
    assertThat(s.durable()).isEqualTo("fraiseql_fn_reserve_inventory");
    assertThat(s.settings().isEmpty()).isTrue();
    assertThat(s.location().toString()).isEqualTo("fraiseql.toml:6:1");
  }

  @Test
  void seed001Backend() {
    ObserversConfig c = load(seed("seed001-backend.toml"));
    assertThat(c.backend()).isEqualTo("nats");
    assertThat(c.backendSettings().asMap()).isEqualTo(Map.of("nats_url", "nats://localhost:4222"));
    assertThat(c.checkpointStrategy()).isEqualTo(CheckpointStrategy.AT_LEAST_ONCE);
    assertThat(c.handlers()).isEmpty();
  }

  @Test
  void seed001Handlers() {
    HandlerConfig h = load(seed("seed001-handler.toml")).handlers().get(0);
    assertThat(h.name()).isEqualTo("welcome-email");
    assertThat(h.trigger()).isEqualTo(Trigger.event("user.created"));
    assertThat(h.action()).isEqualTo("webhook");
    assertThat(h.settings().asMap()).isEqualTo(Map.of("url", "https://email-svc/hooks/fraiseql"));
    assertThat(h.retry()).isEqualTo(RetryPolicy.ofDefaults());
    assertThat(h.synchronous()).isFalse();
    assertThat(h.condition()).isEmpty();

    assertThat(load(seed("seed001-step1-welcome-email.toml")).handlers()).extracting(HandlerConfig::name)
        .containsExactly("welcome-email");
    HandlerConfig comment = load(seed("seed001-step2-comment-notification.toml")).handlers().get(0);
    assertThat(comment.trigger()).isEqualTo(Trigger.event("comment.created"));
    assertThat(comment.settings().string("url")).contains("https://notify/hooks/fraiseql");

    HandlerConfig stats = load(seed("seed001-step3-update-post-stats.toml")).handlers().get(0);
    assertThat(stats.trigger()).isEqualTo(Trigger.event("post.updated"));
    assertThat(stats.condition()).contains("status == 'published'");
    assertThat(stats.settings().keys()).containsExactly("url");
  }

  @Test
  void seed001MultipleHandlersKeepTheirOrderAndBudgets() {
    List<HandlerConfig> hs = load(seed("seed001-step5-multiple.toml")).handlers();
    assertThat(hs).extracting(HandlerConfig::name).containsExactly("welcome-email", "signup-event");
    assertThat(hs.get(0).retry().maxAttempts()).isEqualTo(3);
    assertThat(hs.get(0).retry().backoff()).isEqualTo(BackoffStrategy.EXPONENTIAL);
    assertThat(hs.get(1).retry().maxAttempts()).isEqualTo(5);
    assertThat(hs.get(1).settings().string("url")).contains("https://events/ingest");
  }

  @Test
  void seed001SynchronousAndEffectivelyOnce() {
    HandlerConfig h = load(seed("seed001-synchronous.toml")).handlers().get(0);
    assertThat(h.synchronous()).isTrue();
    assertThat(h.synchronousTimeout()).isEqualTo(HandlerConfig.DEFAULT_SYNCHRONOUS_TIMEOUT);

    ObserversConfig c = load(seed("seed001-effectively-once.toml"));
    assertThat(c.checkpointStrategy()).isEqualTo(CheckpointStrategy.EFFECTIVELY_ONCE);
    assertThat(c.idempotencyTable()).isEqualTo("observer_idempotency_keys");
    assertThat(c.backendSettings().string("nats_url")).contains("nats://user:s3cr3t@localhost:4222");
  }

  @Test
  void seed001BackendAndHandlerTogether() {
    ObserversConfig c = load(seed("seed001-backend.toml") + seed("seed001-handler.toml"));
    assertThat(c.backend()).isEqualTo("nats");
    assertThat(c.handlers()).extracting(HandlerConfig::name).containsExactly("welcome-email");
  }

  @Test
  void seed000MissingVariableNamesItAndItsColumn() {
    ObserverConfigException e = fail(seed("seed000-nats-rules.toml"), k -> Optional.empty());
    assertThat(e.getMessage()).isEqualTo("fraiseql.toml:5:13: environment variable NATS_URL is not set (in `nats_url`"
        + " of [observers]) — set NATS_URL in the environment, or write the value directly");
    e = fail(seed("seed000-webhook-rule.toml"), k -> Optional.empty());
    assertThat(e.getMessage()).isEqualTo("fraiseql.toml:9:1: environment variable USER_CREATED_WEBHOOK_URL (named by"
        + " `url_env` in [[observers.actions]] #1 of [[observers]] #1) is not set — set USER_CREATED_WEBHOOK_URL to the"
        + " webhook URL, or write webhook_url = \"https://...\"");
  }

  @Test
  void theDocumentedExampleLoads() {
    String text;
    try (InputStream in = TomlConfigLoaderTest.class.getResourceAsStream("/examples/fraiseql.toml")) {
      text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    ObserversConfig c = load(text);
    assertThat(c.backend()).isEqualTo("nats");
    assertThat(c.checkpointStrategy()).isEqualTo(CheckpointStrategy.EFFECTIVELY_ONCE);
    assertThat(c.handlers()).extracting(HandlerConfig::name).containsExactly("fraiseql.order.created",
        "fraiseql.order.updated", "user-signup.webhook", "update-post-stats", "create-stripe-customer");
    assertThat(c.handlers().get(3).retry().maxAttempts()).isEqualTo(5);
    assertThat(c.handlers().get(4).synchronousTimeout()).isEqualTo(Duration.ofSeconds(3));
    assertThat(c.subscriptions()).extracting(SubscriptionConfig::durable).containsExactly("inventory-service");
    for (HandlerConfig h : c.handlers()) {
      h.condition().ifPresent(ConditionCompiler::compile);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // other forms

  @Test
  void canonicalRuleFormEqualsTheSeedForm() {
    String canonical = lines(
        "[observers]",
        "backend = \"webhook\"",
        "",
        "[[observers.rules]]",
        "table = \"tb_user\"",
        "event = \"INSERT\"",
        "",
        "[[observers.rules.actions]]",
        "type = \"webhook\"",
        "url_env = \"USER_CREATED_WEBHOOK_URL\"");
    ObserversConfig a = load(canonical);
    ObserversConfig b = load(seed("seed000-webhook-rule.toml"));
    assertThat(a.handlers()).hasSize(1);
    HandlerConfig ha = a.handlers().get(0);
    HandlerConfig hb = b.handlers().get(0);
    assertThat(ha.name()).isEqualTo(hb.name());
    assertThat(ha.trigger()).isEqualTo(hb.trigger());
    assertThat(ha.settings()).isEqualTo(hb.settings());
    assertThat(ha.location().section()).isEqualTo("[[observers.rules.actions]] #1 of [[observers.rules]] #1");
  }

  @Test
  void pureArrayRuleForm() {
    ObserversConfig c = load(lines(
        "[[observers]]",
        "table = \"tb_order\"",
        "event = \"delete\"",
        "subject = \"fraiseql.order.deleted\"",
        "[[observers.actions]]",
        "type = \"webhook\"",
        "webhook_url = \"https://audit/hooks\""));
    assertThat(c.backend()).isEqualTo("in-memory");
    assertThat(c.handlers()).extracting(HandlerConfig::name)
        .containsExactly("fraiseql.order.deleted", "tb_order.delete.webhook");
    assertThat(c.handlers()).extracting(HandlerConfig::trigger)
        .containsOnly(Trigger.table("tb_order", Operation.DELETE));
  }

  @Test
  void seedActionsAfterACanonicalRuleAndActionSubTables() {
    ObserversConfig c = load(lines(
        "[[observers.rules]]",
        "table = \"tb_user\"",
        "[[observers.actions]]",
        "type = \"webhook\"",
        "webhook_url = \"https://a\"",
        "[observers.actions.headers]",
        "X-Team = \"growth\""));
    HandlerConfig h = c.handlers().get(0);
    assertThat(h.name()).isEqualTo("tb_user.webhook");
    assertThat(h.trigger()).isEqualTo(Trigger.anyOperation("tb_user"));
    assertThat(h.settings().stringMap("headers")).containsExactly(Map.entry("X-Team", "growth"));
    assertThat(h.settings().table("headers").orElseThrow().location("X-Team").toString())
        .isEqualTo("fraiseql.toml:7:1");
  }

  @Test
  void seedFormWithBackendTableAfterTheRules() {
    ObserversConfig c = load(lines(
        "[[observers]]",
        "table = \"tb_order\"",
        "subject = \"orders\"",
        "[observers]",
        "backend = \"nats\""));
    assertThat(c.backend()).isEqualTo("nats");
    assertThat(c.handlers().get(0).trigger()).isEqualTo(Trigger.anyOperation("tb_order"));
  }

  @Test
  void headerLinesInsideMultiLineStringsAreNotRewritten() {
    ObserversConfig c = load(lines(
        "[observers]",
        "[[observers]]",
        "table = \"tb_order\"",
        "[[observers.actions]]",
        "type = \"webhook\"",
        "webhook_url = \"https://h\"",
        "body_template = \"\"\"",
        "[[observers]]",
        "\"\"\""));
    assertThat(c.handlers().get(0).settings().string("body_template")).contains("[[observers]]\n");
  }

  @Test
  void handlersAndRulesRunInFileOrderWithUniqueGeneratedNames() {
    ObserversConfig c = load(lines(
        "[[observers.rules]]",
        "table = \"tb_user\"",
        "event = \"INSERT\"",
        "[[observers.rules.actions]]",
        "type = \"webhook\"",
        "webhook_url = \"https://a\"",
        "[[observers.rules.actions]]",
        "type = \"webhook\"",
        "webhook_url = \"https://b\"",
        "max_attempts = 7",
        "",
        "[[observers.handlers]]",
        "name = \"tb_user.insert.webhook#3\"",
        "event = \"user.created\"",
        "action = \"webhook\"",
        "webhook_url = \"https://c\"",
        "",
        "[[observers.rules]]",
        "name = \"audit\"",
        "table = \"tb_user\"",
        "subject = \"audit.user\"",
        "condition = \"CHANGED(email)\"",
        "max_attempts = 9",
        "[[observers.rules.actions]]",
        "type = \"slack\"",
        "webhook_url = \"https://slack\"",
        "channel = \"#audit\"",
        "[[observers.rules.actions]]",
        "type = \"webhook\"",
        "webhook_url = \"https://d\"",
        "condition = \"email != null\"",
        "",
        "[[observers.rules]]",
        "table = \"tb_user\"",
        "event = \"INSERT\"",
        "[[observers.rules.actions]]",
        "type = \"webhook\"",
        "webhook_url = \"https://e\""));
    assertThat(c.handlers()).extracting(HandlerConfig::name).containsExactly(
        "tb_user.insert.webhook", "tb_user.insert.webhook#2", "tb_user.insert.webhook#3", "audit", "audit.slack",
        "audit.webhook", "tb_user.insert.webhook#4");
    assertThat(c.handlers().get(1).retry().maxAttempts()).isEqualTo(7);
    HandlerConfig audit = c.handlers().get(3);
    assertThat(audit.action()).isEqualTo("publish");
    assertThat(audit.trigger()).isEqualTo(Trigger.anyOperation("tb_user"));
    assertThat(audit.condition()).contains("CHANGED(email)");
    assertThat(audit.retry().maxAttempts()).isEqualTo(9);
    HandlerConfig slack = c.handlers().get(4);
    assertThat(slack.settings().asMap()).isEqualTo(Map.of("url", "https://slack", "channel", "#audit"));
    assertThat(slack.retry().maxAttempts()).isEqualTo(9);
    assertThat(slack.condition()).contains("CHANGED(email)");
    assertThat(c.handlers().get(5).condition()).contains("(CHANGED(email)) AND (email != null)");
    ConditionCompiler.compile(c.handlers().get(5).condition().orElseThrow());
  }

  @Test
  void handlerTriggers() {
    ObserversConfig c = load(lines(
        "[[observers.handlers]]",
        "name = \"a\"",
        "event = \"INSERT\"",
        "table = \"tb_user\"",
        "action = \"handler\"",
        "[[observers.handlers]]",
        "name = \"b\"",
        "table = \"tb_user\"",
        "action = \"handler\"",
        "[[observers.handlers]]",
        "name = \"c\"",
        "table = \"tb_user\"",
        "operation = \"update\"",
        "type = \"handler\""));
    assertThat(c.handlers()).extracting(HandlerConfig::trigger).containsExactly(
        Trigger.table("tb_user", Operation.INSERT), Trigger.anyOperation("tb_user"),
        Trigger.table("tb_user", Operation.UPDATE));
    assertThat(c.handlers().get(2).action()).isEqualTo("handler");
  }

  @Test
  void everyObserversKey() {
    ObserversConfig c = load(lines(
        "[server]",
        "port = 8080",
        "[observers]",
        "backend = \"redis\"",
        "redis_url = \"redis://localhost:6379\"",
        "database_url = \"postgres://localhost/app\"",
        "checkpoint_strategy = \"effectively_once\"",
        "idempotency_table = \"obs.keys\"",
        "idempotency_store = \"postgres\"",
        "dead_letter_store = \"redis\"",
        "max_in_flight = 500",
        "overflow_policy = \"dead_letter\"",
        "overflow_timeout_ms = 250",
        "dead_letter_capacity = 42",
        "shutdown_timeout_ms = 1000",
        "claim_ttl_ms = 60000",
        "[observers.redis]",
        "stream_max_len = 1000",
        "consumer = \"${HOSTNAME}-worker\"",
        "[observers.nats]",
        "stream = \"IGNORED\""), k -> Optional.ofNullable(k.equals("HOSTNAME") ? "host1" : null));
    assertThat(c.backend()).isEqualTo("redis");
    assertThat(c.checkpointStrategy()).isEqualTo(CheckpointStrategy.EFFECTIVELY_ONCE);
    assertThat(c.idempotencyTable()).isEqualTo("obs.keys");
    assertThat(c.idempotencyStore()).contains("postgres");
    assertThat(c.deadLetterStore()).contains("redis");
    assertThat(c.maxInFlight()).isEqualTo(500);
    assertThat(c.overflowPolicy()).isEqualTo(OverflowPolicy.DEAD_LETTER);
    assertThat(c.overflowTimeout()).isEqualTo(Duration.ofMillis(250));
    assertThat(c.deadLetterCapacity()).isEqualTo(42);
    assertThat(c.shutdownTimeout()).isEqualTo(Duration.ofSeconds(1));
    assertThat(c.claimTtl()).isEqualTo(Duration.ofMinutes(1));
    Settings bs = c.backendSettings();
    assertThat(bs.asMap()).containsExactly(Map.entry("redis_url", "redis://localhost:6379"),
        Map.entry("database_url", "postgres://localhost/app"), Map.entry("stream_max_len", 1000L),
        Map.entry("consumer", "host1-worker"));
    assertThat(bs.location("stream_max_len").toString()).isEqualTo("fraiseql.toml:18:1");
    assertThat(bs.location("stream_max_len").section()).isEqualTo("[observers.redis]");
    assertThat(bs.unknownKeys(List.of("redis_url", "database_url", "stream_max_len", "consumr")))
        .extracting(ConfigProblem::toString)
        .containsExactly("fraiseql.toml:19:1: unknown key `consumer` in [observers.redis] — did you mean `consumr`?");
  }

  static ObserversConfig load(String toml, Function<String, Optional<String>> env) {
    return TomlConfigLoader.load(toml, "fraiseql.toml", env);
  }

  @Test
  void defaultsAndPluggableBackends() {
    ObserversConfig empty = load("");
    assertThat(empty.backend()).isEqualTo("in-memory");
    assertThat(empty.handlers()).isEmpty();
    assertThat(empty.source()).isEqualTo("fraiseql.toml");
    assertThat(load("[database]\nurl = \"${NOT_OURS}\"\n").backend()).isEqualTo("in-memory");

    ObserversConfig kafka = load(lines("[observers]", "backend = \"kafka\"", "[observers.kafka]", "topic = \"t\""));
    assertThat(kafka.backend()).isEqualTo("kafka");
    assertThat(kafka.backendSettings().asMap()).isEqualTo(Map.of("topic", "t"));

    ObserversConfig stores = load(lines("[observers]", "backend = \"nats\"", "database_url = \"postgres://db\"",
        "dead_letter_store = \"vault\"", "idempotency_store = \"postgres\"", "[observers.vault]", "path = \"dl\"",
        "[observers.postgres]", "schema = \"obs\""));
    assertThat(stores.backendSettings("vault").asMap()).isEqualTo(Map.of("database_url", "postgres://db", "path", "dl"));
    assertThat(stores.backendSettings("postgres").asMap())
        .isEqualTo(Map.of("database_url", "postgres://db", "schema", "obs"));
    assertThat(stores.backendSettings().asMap()).isEqualTo(Map.of("database_url", "postgres://db"));
  }

  @Test
  void handlerSettingsPassThroughWithLocationsAndExpansion() {
    HandlerConfig h = load(lines(
        "[[observers.handlers]]",
        "name = \"n\"",
        "event = \"user.created\"",
        "action = \"webhook\"",
        "webhook_url = \"https://x/${TENANT}/hook\"",
        "body_template = '{\"id\": \"{{data.new.id}}\"}'",
        "headers = { X-Tenant = \"${TENANT}\", X-Literal = \"$${TENANT}\" }",
        "tags = [\"a\", \"${TENANT}\"]",
        "timeout_ms = 1500",
        "initial_delay_ms = 10",
        "max_delay_ms = 20",
        "jitter = 0",
        "backoff_strategy = \"FIXED\"",
        "synchronous = true",
        "synchronous_timeout_ms = 900")).handlers().get(0);
    assertThat(h.settings().keys()).containsExactly("url", "body_template", "headers", "tags");
    assertThat(h.settings().string("url")).contains("https://x/acme/hook");
    assertThat(h.settings().stringMap("headers")).containsExactly(Map.entry("X-Tenant", "acme"),
        Map.entry("X-Literal", "${TENANT}"));
    assertThat(h.settings().stringList("tags")).containsExactly("a", "acme");
    assertThat(h.settings().location("body_template").toString()).isEqualTo("fraiseql.toml:6:1");
    assertThat(h.settings().table("headers").orElseThrow().location("X-Tenant").toString())
        .isEqualTo("fraiseql.toml:7:13");
    assertThat(h.retry()).isEqualTo(RetryPolicy.custom().attemptTimeout(Duration.ofMillis(1500))
        .initialDelay(Duration.ofMillis(10)).maxDelay(Duration.ofMillis(20)).jitter(0)
        .backoff(BackoffStrategy.FIXED).build());
    assertThat(h.synchronous()).isTrue();
    assertThat(h.synchronousTimeout()).isEqualTo(Duration.ofMillis(900));
  }

  @Test
  void subscriptionKeys() {
    SubscriptionConfig s = load(lines(
        "[[observers.subscribe]]",
        "subject = \"fraiseql.order.*\"",
        "handler = \"reserveInventory\"",
        "durable = \"inventory-service\"",
        "condition = \"new.total > 100\"",
        "max_attempts = 10",
        "action = \"sql\"")).subscriptions().get(0);
    assertThat(s.durable()).isEqualTo("inventory-service");
    assertThat(s.condition()).contains("new.total > 100");
    assertThat(s.retry().maxAttempts()).isEqualTo(10);
    assertThat(s.settings().asMap()).isEqualTo(Map.of("action", "sql"));
  }

  @Test
  void dollarEscapesAndLoneDollars() {
    HandlerConfig h = load(lines(
        "[[observers.handlers]]",
        "name = \"n\"",
        "event = \"e\"",
        "action = \"handler\"",
        "price = \"costs $5, $${X} stays, ${TENANT}\"")).handlers().get(0);
    assertThat(h.settings().string("price")).contains("costs $5, ${X} stays, acme");
  }

  // ---------------------------------------------------------------------------------------------
  // problems: exact messages

  @Test
  void everyProblemIsReportedInFileOrder() {
    ObserverConfigException e = fail(lines(
        "[observers]",                                           // 1
        "backend = \"nats\"",                                    // 2
        "checkpoint_strategy = \"exactly_once\"",                // 3
        "max_inflight = 5",                                      // 4
        "[[observers.handlers]]",                                // 5
        "name = \"a\"",                                          // 6
        "event = \"user.created\"",                              // 7
        "action = \"webhook\"",                                  // 8
        "webhook_url = \"${MISSING_URL}\"",                      // 9
        "[[observers.handlers]]",                                // 10
        "name = \"b\"",                                          // 11
        "event = \"user.created\"",                              // 12
        "action = \"webhook\"",                                  // 13
        "max_atempts = 5",                                       // 14
        "max_attempts = \"5\"",                                  // 15
        "backoff_strategy = \"expnential\"",                     // 16
        "jitter = 2",                                            // 17
        "condition = \"status == 'x' AND chnged(status)\"",      // 18
        "[[observers.handlers]]",                                // 19
        "name = \"a\"",                                          // 20
        "event = \"INSERT\"",                                    // 21
        "action = \"publish\"",                                  // 22
        "[[observers.subscribe]]",                               // 23
        "subjet = \"x\""));                                      // 24
    assertThat(e.getMessage()).startsWith("fraiseql.toml has 15 problems:\n  fraiseql.toml:3:1: ");
    assertThat(problems(e)).containsExactly(
        "fraiseql.toml:3:1: unknown checkpoint_strategy `exactly_once` in [observers] — expected one of: at_least_once, effectively_once",
        "fraiseql.toml:4:1: unknown key `max_inflight` in [observers] — did you mean `max_in_flight`?",
        "fraiseql.toml:9:16: environment variable MISSING_URL is not set (in `webhook_url` of [[observers.handlers]] #1) — set MISSING_URL in the environment, or write the value directly",
        "fraiseql.toml:10:1: `webhook` action has no target URL in [[observers.handlers]] #2 — add webhook_url = \"https://...\" or url_env = \"VAR_NAME\"",
        "fraiseql.toml:14:1: unknown key `max_atempts` in [[observers.handlers]] #2 — did you mean `max_attempts`?",
        "fraiseql.toml:15:1: `max_attempts` must be an integer, not a string in [[observers.handlers]] #2 — remove the quotes: max_attempts = 3",
        "fraiseql.toml:16:1: unknown backoff_strategy `expnential` in [[observers.handlers]] #2 — did you mean `exponential`?",
        "fraiseql.toml:17:1: `jitter` is 2, out of range in [[observers.handlers]] #2 — use a value from 0 to 1",
        "fraiseql.toml:18:32: invalid condition: unknown function `chnged` (position 18 of `condition` in [[observers.handlers]] #2) — did you mean `CHANGED`?",
        "fraiseql.toml:19:1: `publish` action has no subject in [[observers.handlers]] #3 — add subject = \"fraiseql.order.created\"",
        "fraiseql.toml:20:1: duplicate handler name `a` (first used at fraiseql.toml:6:1) in [[observers.handlers]] #3 — give each handler a unique name",
        "fraiseql.toml:21:1: `event = \"INSERT\"` is an operation, so the handler also needs a `table` in [[observers.handlers]] #3 — add table = \"tb_...\", or use an event name such as user.created",
        "fraiseql.toml:23:1: missing required key `subject` in [[observers.subscribe]] #1 — add subject = \"fraiseql.order.created\"",
        "fraiseql.toml:23:1: missing required key `handler` in [[observers.subscribe]] #1 — add handler = \"fn_reserve_inventory\" (a SQL function or a handler registered with the engine builder)",
        "fraiseql.toml:24:1: unknown key `subjet` in [[observers.subscribe]] #1 — did you mean `subject`?");
    ConfigProblem p = e.problems().get(4);
    assertThat(p.key()).isEqualTo("max_atempts");
    assertThat(p.location().line()).isEqualTo(14);
    assertThat(p.location().column()).isEqualTo(1);
    assertThat(p.location().section()).isEqualTo("[[observers.handlers]] #2");
    assertThat(p.fix()).isEqualTo("did you mean `max_attempts`?");
  }

  @Test
  void tomlSyntaxErrorsCarryTomljPositions() {
    ObserverConfigException e = fail(lines("[observers]", "backend = \"nats", "max_in_flight = 5"));
    assertThat(problems(e)).hasSize(1);
    assertThat(e.problems().get(0).location().line()).isEqualTo(2);
    assertThat(e.getMessage()).startsWith("fraiseql.toml:2:");
    assertThat(e.getMessage()).contains("TOML syntax error: ");
    assertThat(e.getMessage()).endsWith(" — fix the TOML syntax (https://toml.io)");

    e = fail(lines("[observers]", "token = \"x\" s3cr3tvalue123456"));
    assertThat(e.getMessage()).isEqualTo("fraiseql.toml:2:13: TOML syntax error: Unexpected text, expected a newline"
        + " or end-of-input — fix the TOML syntax (https://toml.io)");

    e = fail(lines("[observers]", "backend = \"nats\"", "backend = \"redis\""));
    assertThat(e.getMessage()).isEqualTo("fraiseql.toml:3:1: TOML syntax error: backend previously defined at line 2,"
        + " column 1 — each key and table may be defined only once");
  }

  @Test
  void wrongTypes() {
    ObserverConfigException e = fail(lines(
        "[observers]",
        "backend = 5",
        "max_in_flight = 1.5",
        "nats = \"x\"",
        "[observers.handlers]",
        "name = \"x\""));
    assertThat(problems(e)).containsExactly(
        "fraiseql.toml:2:1: `backend` must be a string, not an integer in [observers] — write it as backend = \"nats\"",
        "fraiseql.toml:3:1: `max_in_flight` must be an integer, not a float in [observers] — write it as max_in_flight = 10000",
        "fraiseql.toml:4:1: `nats` must be a table, not a string in [observers] — write it as [observers.nats]",
        "fraiseql.toml:5:1: `handlers` must be an array of tables, not a table in [observers] — write each entry as [[observers.handlers]] (double brackets)");

    e = fail(lines(
        "[[observers.handlers]]",
        "name = \"x\"",
        "event = \"e\"",
        "action = \"handler\"",
        "synchronous = \"yes\"",
        "condition = 5",
        "jitter = \"0.5\""));
    assertThat(problems(e)).containsExactly(
        "fraiseql.toml:5:1: `synchronous` must be true or false, not a string in [[observers.handlers]] #1 — remove the quotes: synchronous = true",
        "fraiseql.toml:6:1: `condition` must be a string, not an integer in [[observers.handlers]] #1 — write it as condition = \"status == 'published'\"",
        "fraiseql.toml:7:1: `jitter` must be a number, not a string in [[observers.handlers]] #1 — remove the quotes: jitter = 0.2");
  }

  @Test
  void outOfRangeNumbers() {
    ObserverConfigException e = fail(lines(
        "[observers]",
        "max_in_flight = 0",
        "[[observers.handlers]]",
        "name = \"x\"",
        "event = \"e\"",
        "action = \"handler\"",
        "max_attempts = 0",
        "[[observers.handlers]]",
        "name = \"y\"",
        "event = \"e\"",
        "action = \"handler\"",
        "max_attempts = 101",
        "jitter = -0.1",
        "timeout_ms = 0",
        "[[observers.handlers]]",
        "name = \"z\"",
        "event = \"e\"",
        "action = \"handler\"",
        "initial_delay_ms = 120000"));
    assertThat(problems(e)).containsExactly(
        "fraiseql.toml:2:1: `max_in_flight` is 0, out of range in [observers] — use a value from 1 to 10000000",
        "fraiseql.toml:7:1: `max_attempts` is 0, out of range in [[observers.handlers]] #1 — use a value from 1 to 100",
        "fraiseql.toml:12:1: `max_attempts` is 101, out of range in [[observers.handlers]] #2 — use a value from 1 to 100",
        "fraiseql.toml:13:1: `jitter` is -0.1, out of range in [[observers.handlers]] #2 — use a value from 0 to 1",
        "fraiseql.toml:14:1: `timeout_ms` is 0, out of range in [[observers.handlers]] #2 — use a value from 1 to 86400000",
        "fraiseql.toml:19:1: `max_delay_ms` (60000, the default) is less than `initial_delay_ms` (120000) in [[observers.handlers]] #3 — raise max_delay_ms or lower initial_delay_ms");
  }

  @Test
  void badEnumsAndNames() {
    ObserverConfigException e = fail(lines(
        "[observers]",
        "overflow_policy = \"drop\"",
        "idempotency_table = \"keys; DROP TABLE users\"",
        "backend = \"my backend\"",
        "[[observers]]",
        "table = \"tb_order\"",
        "event = \"INSRT\"",
        "subject = \"s\"",
        "[[observers]]",
        "table = \"tb_order\"",
        "event = \"order.created\"",
        "subject = \"t\"",
        "[[observers.subscribe]]",
        "subject = \"s\"",
        "handler = \"h\"",
        "durable = \"no spaces please\""));
    assertThat(problems(e)).containsExactly(
        "fraiseql.toml:2:1: unknown overflow_policy `drop` in [observers] — expected one of: block, dead_letter, reject",
        "fraiseql.toml:3:1: `idempotency_table` is not a valid SQL table name in [observers] — use letters, digits and _ (optionally schema.table), e.g. observer_idempotency_keys",
        "fraiseql.toml:4:1: backend name must not contain spaces in [observers] — use one of: in-memory, nats, redis, postgres, webhook",
        "fraiseql.toml:7:1: unknown operation `INSRT` in a rule in [[observers]] #1 — did you mean `INSERT`?",
        "fraiseql.toml:11:1: unknown operation `order.created` in a rule in [[observers]] #2 — a rule's event is INSERT, UPDATE or DELETE; for an event name such as order.created use [[observers.handlers]]",
        "fraiseql.toml:16:1: `durable` may hold only letters, digits, _ and - in [[observers.subscribe]] #1 — write durable = \"inventory-service\"");
  }

  @Test
  void rulesRejectUnknownKeysAndNeedATarget() {
    ObserverConfigException e = fail(lines(
        "[observers]",
        "backend = \"webhook\"",
        "[[observers]]",
        "tabel = \"tb_user\"",
        "event = \"INSERT\"",
        "[[observers]]",
        "table = \"tb_user\"",
        "subjects = \"x\"",
        "[[observers.actions]]",
        "url_env = \"USER_CREATED_WEBHOOK_URL\"",
        "[[observers.actions]]",
        "type = \"webhook\"",
        "retries = 3",
        "max_attemps = 2"));
    assertThat(problems(e)).containsExactly(
        "fraiseql.toml:3:1: missing required key `table` in [[observers]] #1 — add table = \"tb_order\"",
        "fraiseql.toml:3:1: rule on its table has no target in [[observers]] #1 — add subject = \"fraiseql.order.created\" to publish it, or an [[observers.actions]] entry with type = \"webhook\"",
        "fraiseql.toml:4:1: unknown key `tabel` in [[observers]] #1 — did you mean `table`?",
        "fraiseql.toml:8:1: unknown key `subjects` in [[observers]] #2 — did you mean `subject`?",
        "fraiseql.toml:9:1: missing required key `type` in [[observers.actions]] #1 of [[observers]] #2 — add type = \"webhook\" (or slack, publish, sql)",
        "fraiseql.toml:11:1: `webhook` action has no target URL in [[observers.actions]] #2 of [[observers]] #2 — add webhook_url = \"https://...\" or url_env = \"VAR_NAME\"",
        "fraiseql.toml:14:1: unknown key `max_attemps` in [[observers.actions]] #2 of [[observers]] #2 — did you mean `max_attempts`?");
  }

  @Test
  void actionsWithoutARule() {
    ObserverConfigException e = fail(lines(
        "[observers]",
        "backend = \"webhook\"",
        "[[observers.handlers]]",
        "name = \"h\"",
        "event = \"e\"",
        "action = \"handler\"",
        "[[observers.actions]]",
        "type = \"webhook\""));
    assertThat(e.getMessage()).isEqualTo("fraiseql.toml:7:1: `[[observers.actions]]` does not follow a rule in"
        + " [observers] — put it right after the rule it belongs to ([[observers.rules]] with table = ..., then"
        + " [[observers.rules.actions]])");
  }

  @Test
  void handlersNeedNameEventActionAndTarget() {
    ObserverConfigException e = fail(lines(
        "[[observers.handlers]]",
        "webhook_url = \"https://x\"",
        "[[observers.handlers]]",
        "name = \"b\"",
        "event = \"user.created\"",
        "table = \"tb_user\"",
        "action = \"webhook\"",
        "webhook_url = \"https://x\"",
        "url_env = \"X\"",
        "[[observers.handlers]]",
        "name = \"c\"",
        "event = \"user created\"",
        "action = \"webhook\"",
        "url_env = \"NOT_SET\""));
    assertThat(problems(e)).containsExactly(
        "fraiseql.toml:1:1: missing required key `name` in [[observers.handlers]] #1 — add name = \"...\" (unique per handler)",
        "fraiseql.toml:1:1: missing required key `event` in [[observers.handlers]] #1 — add event = \"user.created\" (an event name), or table = \"tb_user\" with event = \"INSERT\"",
        "fraiseql.toml:1:1: missing required key `action` in [[observers.handlers]] #1 — add action = \"webhook\"",
        "fraiseql.toml:6:1: `table` only goes with event = INSERT, UPDATE or DELETE in [[observers.handlers]] #2 — remove `table` (the event name already says which table), or set event to an operation",
        "fraiseql.toml:9:1: both `webhook_url` and `url_env` are set in [[observers.handlers]] #2 — keep only one: `url_env` names a variable holding the URL, `webhook_url` is the URL itself",
        "fraiseql.toml:12:1: event name must not contain spaces in [[observers.handlers]] #3 — write it like user.created",
        "fraiseql.toml:14:1: environment variable NOT_SET (named by `url_env` in [[observers.handlers]] #3) is not set — set NOT_SET to the webhook URL, or write webhook_url = \"https://...\"");
  }

  @Test
  void conditionErrorsPointIntoTheFile() {
    // escapes in a TOML basic string shift the column: \" is two characters in the file, one in the condition
    ObserverConfigException e = fail(lines(
        "[[observers.handlers]]",
        "name = \"x\"",
        "event = \"e\"",
        "action = \"handler\"",
        "condition = \"title == \\\"a\\\" AND (\""));
    assertThat(e.getMessage()).isEqualTo("fraiseql.toml:5:34: invalid condition: condition ends too early: expected a"
        + " value (position 18 of `condition` in [[observers.handlers]] #1) — finish the condition, e.g. status =="
        + " 'published'");
    // a literal string
    e = fail(lines(
        "[[observers.handlers]]",
        "name = \"x\"",
        "event = \"e\"",
        "action = \"handler\"",
        "condition   =   'a == 1 && b === 2'"));
    assertThat(e.problems().get(0).location().toString()).isEqualTo("fraiseql.toml:5:32");
    assertThat(e.problems().get(0).message()).startsWith("invalid condition: expected a value, found `=`");
    // a multi-line string
    e = fail(lines(
        "[[observers.handlers]]",
        "name = \"x\"",
        "event = \"e\"",
        "action = \"handler\"",
        "condition = \"\"\"",
        "status == 'published'",
        "  AND chnged(title)\"\"\""));
    assertThat(e.getMessage()).isEqualTo("fraiseql.toml:7:7: invalid condition: unknown function `chnged` (position 28"
        + " of `condition` in [[observers.handlers]] #1) — did you mean `CHANGED`?");
    // inside an inline table (a rule action given inline)
    e = fail(lines(
        "[[observers.rules]]",
        "table = \"t\"",
        "actions = [ { type = \"handler\", condition = \"x ==\" } ]"));
    assertThat(e.problems().get(0).location().toString()).isEqualTo("fraiseql.toml:3:50");
  }

  @Test
  void keysThatSayWhatRunsDoNotTakeVariables() {
    // a condition, an enum, a name: written in the file (they appear in logs, dead letters and metrics)
    ObserverConfigException e = fail(lines(
        "[[observers.handlers]]",
        "name = \"x\"",
        "event = \"e\"",
        "action = \"handler\"",
        "condition = \"context.tenant_id == ${SECRET_TENANT}\"",
        "backoff_strategy = \"${STRATEGY}\""), k -> Optional.of("s3cr3t-value"));
    assertThat(problems(e)).containsExactly(
        "fraiseql.toml:5:35: `condition` cannot take ${SECRET_TENANT} from the environment: keys that say what runs"
            + " (names, events, tables, actions, subjects, handlers, conditions) are written in the file in"
            + " [[observers.handlers]] #1 — write the value itself; ${VAR} is for URLs, credentials and an action's own"
            + " settings",
        "fraiseql.toml:6:21: `backoff_strategy` cannot take ${STRATEGY} from the environment: keys that say what runs"
            + " (names, events, tables, actions, subjects, handlers, conditions) are written in the file in"
            + " [[observers.handlers]] #1 — write the value itself; ${VAR} is for URLs, credentials and an action's own"
            + " settings");
    assertThat(e.getMessage()).doesNotContain("s3cr3t");
  }

  @Test
  void malformedVariableReferences() {
    ObserverConfigException e = fail(lines(
        "[observers]",
        "nats_url = \"nats://${HOST\"",
        "redis_url = \"redis://${1X}\""));
    assertThat(problems(e)).containsExactly(
        "fraiseql.toml:2:20: `${` is not closed with `}` (in `nats_url` of [observers]) — write ${NAME} to use a variable, or $${ for a literal ${",
        "fraiseql.toml:3:22: `${...}` does not hold a variable name (in `redis_url` of [observers]) — a variable name is letters, digits and _, not starting with a digit; write $${ for a literal ${");
  }

  @Test
  void duplicateNamesAcrossRulesAndHandlers() {
    ObserverConfigException e = fail(lines(
        "[[observers.handlers]]",
        "name = \"audit\"",
        "event = \"e\"",
        "action = \"handler\"",
        "[[observers.rules]]",
        "name = \"audit\"",
        "table = \"t\"",
        "subject = \"s\""));
    assertThat(e.getMessage()).isEqualTo("fraiseql.toml:6:1: duplicate handler name `audit` (first used at"
        + " fraiseql.toml:2:1) in [[observers.rules]] #1 — give each handler a unique name");
  }

  @Test
  void observersMustBeATable() {
    ObserverConfigException e = fail("observers = 5\n");
    assertThat(e.getMessage()).isEqualTo("fraiseql.toml:1:1: `observers` must be a table, not an integer"
        + " — write an [observers] table, with [[observers.rules]] / [[observers.handlers]] entries");
  }

  @Test
  void tooLargeFiles() {
    ObserverConfigException e = fail("#".repeat(TomlConfigLoader.MAX_SOURCE_LENGTH + 1));
    assertThat(e.getMessage()).isEqualTo("fraiseql.toml:1:1: file is too large: 1048577 characters, at most 1048576"
        + " — keep the observer configuration under 1 MiB");
  }

  @Test
  void absurdNestingIsRejectedBeforeParsing() {
    ObserverConfigException e = fail("# [[[[ in a comment\nx = \"[[[[\"\na = " + "[".repeat(40) + "]".repeat(40) + "\n");
    assertThat(e.getMessage()).isEqualTo("fraiseql.toml:3:37: arrays and inline tables are nested more than 32 deep"
        + " — flatten the value");
    assertThat(load("a = " + "[".repeat(32) + "]".repeat(32) + "\n").handlers()).isEmpty();
    e = fail("s = '''\n[[[\n'''\nb = { c = " + "{ d = ".repeat(33) + "\n");
    assertThat(e.getMessage()).startsWith("fraiseql.toml:4:");
  }

  @Test
  void atMostAHundredProblemsAreListed() {
    StringBuilder toml = new StringBuilder();
    for (int i = 0; i < 150; i++) {
      toml.append("[[observers.handlers]]\nname = \"h").append(i).append("\"\nevent = \"e\"\naction = \"handler\"\n")
          .append("max_atempts = 1\n");
    }
    ObserverConfigException e = fail(toml.toString());
    assertThat(e.problems()).hasSize(101);
    assertThat(e.problems().get(99).toString()).isEqualTo("fraiseql.toml:500:1: unknown key `max_atempts` in"
        + " [[observers.handlers]] #100 — did you mean `max_attempts`?");
    assertThat(e.problems().get(100).toString()).isEqualTo("fraiseql.toml:500:1: ... and 50 more problems — fix the"
        + " ones above first");
    assertThat(e.getMessage()).startsWith("fraiseql.toml has 101 problems:");
  }

  @Test
  void malformedRuleShapes() {
    ObserverConfigException e = fail(lines(
        "[[observers.rules]]",
        "table = \"t\"",
        "actions = 5",
        "[[observers.rules]]",
        "table = \"u\"",
        "actions = []",
        "[observers]",
        "subscribe = [1, 2]"));
    assertThat(problems(e)).containsExactly(
        "fraiseql.toml:3:1: `actions` must be an array of tables in [[observers.rules]] #1 — write each action as [[observers.rules.actions]]",
        "fraiseql.toml:4:1: rule on u has no target in [[observers.rules]] #2 — add subject = \"fraiseql.order.created\" to publish it, or an [[observers.rules.actions]] entry with type = \"webhook\"",
        "fraiseql.toml:8:1: `subscribe` must be an array of tables in [observers] — write each entry as [[observers.subscribe]]");
  }

  @Test
  void missingVariablesInsideMultiLineStringsAreLocated() {
    ObserverConfigException e = fail(lines(
        "[[observers.handlers]]",
        "name = \"x\"",
        "event = \"e\"",
        "action = \"handler\"",
        "body_template = \"\"\"",
        "{\"a\": \"\\",
        "      b\", \"t\": \"${NOPE}\"}",
        "\"\"\""));
    assertThat(e.getMessage()).isEqualTo("fraiseql.toml:7:17: environment variable NOPE is not set (in `body_template`"
        + " of [[observers.handlers]] #1) — set NOPE in the environment, or write the value directly");
  }

  @Test
  void backendUrlTwice() {
    ObserverConfigException e = fail(lines(
        "[observers]",
        "backend = \"nats\"",
        "nats_url = \"nats://a\"",
        "[observers.nats]",
        "nats_url = \"nats://b\""));
    assertThat(e.getMessage()).isEqualTo("fraiseql.toml:5:1: `nats_url` is set both in [observers] and in"
        + " [observers.nats] — keep only one of them");
  }

  @Test
  void aSubscriptionForwardingToAWebhookTakesWebhookUrlLikeAHandler() {
    ObserversConfig c = load("[[observers.subscribe]]\nsubject = \"fraiseql.order.created\"\nhandler = \"confirm\"\n"
        + "action = \"webhook\"\nwebhook_url = \"${STRIPE_WEBHOOK_URL}\"\n");
    dev.fraiseql.observers.config.SubscriptionConfig sub = c.subscriptions().get(0);
    assertThat(sub.settings().string("url")).contains("https://stripe-bridge/hooks");
    assertThat(sub.settings().has("webhook_url")).isFalse();
    assertThat(sub.settings().string("action")).contains("webhook");
  }
}
