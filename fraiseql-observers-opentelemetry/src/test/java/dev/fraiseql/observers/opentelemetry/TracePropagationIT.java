package dev.fraiseql.observers.opentelemetry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.RetryPolicy;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.config.SubscriptionConfig;
import dev.fraiseql.observers.pg.PgOutbox;
import dev.fraiseql.observers.pg.PgOutboxRelay;
import io.nats.client.Connection;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Subscription;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;
import redis.clients.jedis.resps.StreamEntry;

/**
 * One trace id from a producer span to the receiver: onCommit → webhook; PgOutbox.record → relay →
 * webhook; NATS publish → subscription handler; Redis publish → subscription handler. Spans come from
 * the SDK's in-memory exporter; headers from a real HTTP receiver and the real servers.
 */
class TracePropagationIT {
  static final String PG_URL = env("FRAISEQL_TEST_PG_URL", "jdbc:postgresql://localhost:5432/test?user=root");
  static final String NATS_URL = env("FRAISEQL_TEST_NATS_URL", "nats://localhost:4222");
  static final String REDIS_URL = env("FRAISEQL_TEST_REDIS_URL", "redis://localhost:6379");

  private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  private final SdkTracerProvider provider = SdkTracerProvider.builder()
      .addSpanProcessor(SimpleSpanProcessor.create(exporter)).build();
  private final OpenTelemetrySdk otel = OpenTelemetrySdk.builder().setTracerProvider(provider).build();
  private final Tracer tracer = otel.getTracer("test-producer");
  private final ObserverTracing tracing = ObserverTracing.create(otel);
  private final String id = UUID.randomUUID().toString().replace("-", "").substring(0, 10);

  static String env(String name, String dflt) {
    return Optional.ofNullable(System.getenv(name)).orElse(dflt);
  }

  @AfterEach
  void close() {
    provider.close();
  }

  private static ObservedEvent user(String email) {
    return ObservedEvent.builder().table("tb_user").operation(dev.fraiseql.observers.Operation.INSERT).mutation("createUser")
        .newRow(Map.of("id", email, "email", email)).context(MutationContext.builder().requestId("req-" + email).build())
        .build();
  }

  private List<SpanData> spans(String name) {
    return exporter.getFinishedSpanItems().stream().filter(s -> s.getName().equals(name))
        .sorted(Comparator.comparing(s -> s.getAttributes().get(ObserverTracing.ATTEMPT))).toList();
  }

  /** The one producer span {@code send <event>} made when the event was stamped. */
  private SpanData send(String eventName) {
    List<SpanData> found = exporter.getFinishedSpanItems().stream().filter(s -> s.getName().equals("send " + eventName)).toList();
    assertThat(found).as("send " + eventName).hasSize(1);
    assertThat(found.get(0).getKind()).isEqualTo(SpanKind.PRODUCER);
    return found.get(0);
  }

  static void await(Duration d, BooleanSupplier ok, String what) throws InterruptedException {
    long end = System.nanoTime() + d.toNanos();
    while (!ok.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }

  private static String traceId(String traceparent) {
    return traceparent.substring(3, 35);
  }

  private static String spanId(String traceparent) {
    return traceparent.substring(36, 52);
  }

  @Test
  void onCommitToWebhookCarriesTheProducersTraceAndEachAttemptIsAChildSpan() throws Exception {
    try (HeaderReceiver r = new HeaderReceiver()) {
      r.answer("/signup", 503, 200);
      String toml = """
          [observers]
          backend = "webhook"
          [[observers.handlers]]
          name = "signup-event"
          event = "user.created"
          action = "webhook"
          webhook_url = "%s"
          max_attempts = 3
          initial_delay_ms = 10
          jitter = 0.0
          """.formatted(r.url("/signup"));
      try (ObserverEngine engine = tracing.wrap(ObserverEngine.builder().configToml(toml).listener(tracing).build())) {
        Span producer = tracer.spanBuilder("POST /users").setSpanKind(SpanKind.SERVER).startSpan();
        List<DeliveryOutcome> out;
        try (Scope ignored = producer.makeCurrent()) {
          out = engine.onCommit(user("alice@example.com")).completion().toCompletableFuture().get(20, TimeUnit.SECONDS);
        } finally {
          producer.end();
        }
        assertThat(out).singleElement().satisfies(o -> assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED));
        SpanContext p = producer.getSpanContext();
        await(Duration.ofSeconds(5), () -> spans("process signup-event").size() == 2, "two attempt spans");
        List<SpanData> attempts = spans("process signup-event");
        SpanData send = send("user.created");
        assertThat(send.getParentSpanId()).as("the producer span is the request's child").isEqualTo(p.getSpanId());
        // each request carries its own attempt's span: the receiver's span is the attempt span's child
        assertThat(r.requests).hasSize(2);
        for (int i = 0; i < 2; i++) {
          assertThat(traceId(r.requests.get(i).traceparent())).isEqualTo(p.getTraceId());
          assertThat(spanId(r.requests.get(i).traceparent())).as("request %d", i + 1).isEqualTo(attempts.get(i).getSpanId());
        }
        assertThat(attempts).allSatisfy(s -> {
          assertThat(s.getTraceId()).isEqualTo(p.getTraceId());
          assertThat(s.getParentSpanId()).isEqualTo(send.getSpanId());
          assertThat(s.getKind()).isEqualTo(SpanKind.CONSUMER);
          assertThat(s.getAttributes().get(ObserverTracing.HANDLER)).isEqualTo("signup-event");
          assertThat(s.getAttributes().get(AttributeKey.stringKey("messaging.system"))).isEqualTo("fraiseql");
          assertThat(s.getAttributes().get(AttributeKey.stringKey("messaging.destination.name"))).isEqualTo("user.created");
        });
        SpanData first = attempts.get(0);
        assertThat(first.getAttributes().get(ObserverTracing.ATTEMPT)).isEqualTo(1L);
        assertThat(first.getAttributes().get(ObserverTracing.RESULT)).isEqualTo("retry");
        assertThat(first.getAttributes().get(AttributeKey.longKey("http.response.status_code"))).isEqualTo(503L);
        assertThat(first.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
        SpanData second = attempts.get(1);
        assertThat(second.getAttributes().get(ObserverTracing.ATTEMPT)).isEqualTo(2L);
        assertThat(second.getAttributes().get(ObserverTracing.RESULT)).isEqualTo("delivered");
        assertThat(second.getAttributes().get(AttributeKey.longKey("http.response.status_code"))).isEqualTo(200L);
        assertThat(second.getAttributes().get(AttributeKey.longKey("http.request.resend_count"))).isEqualTo(1L);
        assertThat(second.getStatus().getStatusCode()).isEqualTo(StatusCode.UNSET);
      }
    }
  }

  @Test
  void aDeadLetterIsASpanInTheProducersTrace() throws Exception {
    try (HeaderReceiver r = new HeaderReceiver()) {
      r.answer("/crm", 400);
      String toml = """
          [observers]
          backend = "webhook"
          [[observers.handlers]]
          name = "crm-sync"
          event = "user.created"
          action = "webhook"
          webhook_url = "%s"
          """.formatted(r.url("/crm"));
      try (ObserverEngine engine = tracing.wrap(ObserverEngine.builder().configToml(toml).listener(tracing).build())) {
        Span producer = tracer.spanBuilder("POST /users").startSpan();
        try (Scope ignored = producer.makeCurrent()) {
          engine.onCommit(user("bob@example.com")).completion().toCompletableFuture().get(20, TimeUnit.SECONDS);
        } finally {
          producer.end();
        }
        await(Duration.ofSeconds(5), () -> spans("dead-letter crm-sync").size() == 1, "the dead-letter span");
        SpanData dl = spans("dead-letter crm-sync").get(0);
        assertThat(dl.getTraceId()).isEqualTo(producer.getSpanContext().getTraceId());
        assertThat(dl.getParentSpanId()).isEqualTo(send("user.created").getSpanId());
        assertThat(dl.getAttributes().get(ObserverTracing.REASON)).contains("HTTP 400");
        assertThat(spans("process crm-sync")).singleElement()
            .satisfies(s -> assertThat(s.getAttributes().get(ObserverTracing.RESULT)).isEqualTo("failed"));
      }
    }
  }

  @Test
  void thePgOutboxCarriesTheTraceThroughTheRelayToTheWebhook() throws Exception {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setURL(PG_URL);
    String table = "obs_trace_outbox_" + id;
    PgOutbox outbox = PgOutbox.forTable(table);
    outbox.createTable(ds);
    try (HeaderReceiver r = new HeaderReceiver()) {
      String toml = """
          [observers]
          backend = "webhook"
          [[observers.handlers]]
          name = "welcome-email"
          event = "user.created"
          action = "webhook"
          webhook_url = "%s"
          """.formatted(r.url("/email"));
      try (ObserverEngine engine = ObserverEngine.builder().configToml(toml).listener(tracing).build();
           PgOutboxRelay relay = PgOutboxRelay.builder(engine, ds).outbox(outbox).pollInterval(Duration.ofMillis(200)).start()) {
        Span producer = tracer.spanBuilder("POST /users").setSpanKind(SpanKind.SERVER).startSpan();
        try (Scope ignored = producer.makeCurrent(); java.sql.Connection c = ds.getConnection()) {
          c.setAutoCommit(false);
          outbox.record(c, tracing.withCurrentContext(user("carol@example.com")));
          c.commit();
        } finally {
          producer.end();
        }
        await(Duration.ofSeconds(20), () -> r.requests.size() == 1, "the relayed webhook");
        SpanContext p = producer.getSpanContext();
        assertThat(traceId(r.requests.get(0).traceparent())).isEqualTo(p.getTraceId());
        await(Duration.ofSeconds(5), () -> spans("process welcome-email").size() == 1, "the attempt span");
        SpanData s = spans("process welcome-email").get(0);
        SpanData send = send("user.created");
        assertThat(send.getParentSpanId()).as("PgOutbox.record's producer span").isEqualTo(p.getSpanId());
        assertThat(s.getTraceId()).isEqualTo(p.getTraceId());
        assertThat(s.getParentSpanId()).isEqualTo(send.getSpanId());
        assertThat(spanId(r.requests.get(0).traceparent())).as("the receiver's parent: the attempt span").isEqualTo(s.getSpanId());
        assertThat(s.getAttributes().get(ObserverTracing.RESULT)).isEqualTo("delivered");
      }
    } finally {
      try (java.sql.Connection c = ds.getConnection(); java.sql.Statement st = c.createStatement()) {
        st.execute("DROP TABLE IF EXISTS " + table);
      }
    }
  }

  @Test
  void natsPublishCarriesTheTraceHeaderAndTheSubscriptionHandlerRunsInsideAChildSpan() throws Exception {
    String subject = "t" + id + ".order.created";
    Map<String, Object> nats = new LinkedHashMap<>();
    nats.put("nats_url", NATS_URL);
    nats.put("stream", "S" + id);
    nats.put("subjects", List.of("t" + id + ".>"));
    nats.put("fetch_wait_ms", 250L);
    List<SpanContext> inHandler = new CopyOnWriteArrayList<>();
    ObserversConfig config = ObserversConfig.builder().backend("nats")
        .backendSettings(Settings.of("[observers]", nats))
        .handler(HandlerConfig.builder("order-created").event("order.created").action("publish")
            .settings(Settings.of("[[observers.handlers]] #1", Map.of("subject", subject))).build())
        .subscription(SubscriptionConfig.builder(subject, "reserveInventory").durable("inv" + id)
            .retry(RetryPolicy.custom().maxAttempts(3).initialDelay(Duration.ofMillis(50)).jitter(0).build()).build())
        .build();
    try (Connection plain = Nats.connect(NATS_URL)) {
      Subscription raw = plain.subscribe(subject);
      plain.flush(Duration.ofSeconds(2));
      try (ObserverEngine engine = tracing.wrap(ObserverEngine.builder().config(config).listener(tracing)
          .handler("reserveInventory", tracing.handler("reserveInventory", e -> inHandler.add(Span.current().getSpanContext())))
          .build())) {
        Span producer = tracer.spanBuilder("POST /orders").setSpanKind(SpanKind.SERVER).startSpan();
        try (Scope ignored = producer.makeCurrent()) {
          engine.onCommit(ObservedEvent.insert("tb_order", Map.of("id", "o-" + id))).completion().toCompletableFuture()
              .get(20, TimeUnit.SECONDS);
        } finally {
          producer.end();
        }
        SpanContext p = producer.getSpanContext();
        await(Duration.ofSeconds(20), () -> !inHandler.isEmpty(), "the subscription handler");
        await(Duration.ofSeconds(5), () -> spans("process reserveInventory").size() == 1, "the subscription's span");
        SpanData publish = spans("process order-created").get(0);
        assertThat(publish.getTraceId()).isEqualTo(p.getTraceId());
        assertThat(publish.getParentSpanId()).isEqualTo(send("order.created").getSpanId());
        Message m = raw.nextMessage(Duration.ofSeconds(10));
        assertThat(m).as("the raw NATS message").isNotNull();
        assertThat(m.getHeaders().getFirst("traceparent")).isNotNull().satisfies(tp -> {
          assertThat(traceId(tp)).isEqualTo(p.getTraceId());
          assertThat(spanId(tp)).as("the publish attempt's span").isEqualTo(publish.getSpanId());
        });
        SpanData sub = spans("process reserveInventory").get(0);
        assertThat(sub.getTraceId()).isEqualTo(p.getTraceId());
        assertThat(sub.getParentSpanId()).as("the subscriber's span: a child of the publish attempt").isEqualTo(publish.getSpanId());
        assertThat(inHandler.get(0).getSpanId()).as("Span.current() inside the handler").isEqualTo(sub.getSpanId());
      } finally {
        try {
          plain.jetStreamManagement().deleteStream("S" + id);
        } catch (Exception ignored) {
          // already gone
        }
      }
    }
  }

  @Test
  void redisPublishCarriesTheTraceFieldAndTheSubscriptionHandlerRunsInsideAChildSpan() throws Exception {
    String prefix = "obs-trace-" + id + ":";
    String subject = "fraiseql.order.created";
    List<SpanContext> inHandler = new CopyOnWriteArrayList<>();
    ObserversConfig config = ObserversConfig.builder().backend("redis")
        .backendSettings(Settings.of("[observers]", Map.of("redis_url", REDIS_URL, "key_prefix", prefix, "block_ms", 200L)))
        .handler(HandlerConfig.builder("order-created").event("order.created").action("publish")
            .settings(Settings.of("[[observers.handlers]] #1", Map.of("subject", subject))).build())
        .subscription(SubscriptionConfig.builder(subject, "reserveInventory").build())
        .build();
    try (RedisClient jedis = RedisClient.create(java.net.URI.create(REDIS_URL))) {
      try (ObserverEngine engine = tracing.wrap(ObserverEngine.builder().config(config).listener(tracing)
          .handler("reserveInventory", tracing.handler("reserveInventory", e -> inHandler.add(Span.current().getSpanContext())))
          .build())) {
        Span producer = tracer.spanBuilder("POST /orders").startSpan();
        try (Scope ignored = producer.makeCurrent()) {
          engine.onCommit(ObservedEvent.insert("tb_order", Map.of("id", "o-" + id))).completion().toCompletableFuture()
              .get(20, TimeUnit.SECONDS);
        } finally {
          producer.end();
        }
        SpanContext p = producer.getSpanContext();
        await(Duration.ofSeconds(20), () -> !inHandler.isEmpty(), "the subscription handler");
        await(Duration.ofSeconds(5), () -> spans("process reserveInventory").size() == 1, "the subscription's span");
        SpanData sub = spans("process reserveInventory").get(0);
        SpanData publish = spans("process order-created").get(0);
        assertThat(publish.getParentSpanId()).isEqualTo(send("order.created").getSpanId());
        assertThat(sub.getTraceId()).isEqualTo(p.getTraceId());
        assertThat(sub.getParentSpanId()).isEqualTo(publish.getSpanId());
        assertThat(inHandler.get(0).getSpanId()).isEqualTo(sub.getSpanId());
        List<StreamEntry> entries = jedis.xrange(prefix + "stream:" + subject, (StreamEntryID) null, (StreamEntryID) null);
        assertThat(entries).singleElement().satisfies(e -> assertThat(e.getFields().toString())
            .contains(p.getTraceId()).contains(publish.getSpanId()));
      } finally {
        String cursor = ScanParams.SCAN_POINTER_START;
        do {
          ScanResult<String> page = jedis.scan(cursor, new ScanParams().match(prefix + "*").count(100));
          page.getResult().forEach(jedis::del);
          cursor = page.getCursor();
        } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
      }
    }
  }

  @Test
  void thePostgresBusCarriesOneTraceFromTheProducerThroughThePublishAttemptToTheSubscriber() throws Exception {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setURL(PG_URL);
    String schema = "obs_trace_bus_" + id;
    try (java.sql.Connection c = ds.getConnection(); java.sql.Statement st = c.createStatement()) {
      st.execute("CREATE SCHEMA " + schema);
    }
    String subject = "fraiseql.order.created";
    List<SpanContext> inHandler = new CopyOnWriteArrayList<>();
    Map<String, Object> pg = new LinkedHashMap<>();
    pg.put("database_url", PG_URL + (PG_URL.contains("?") ? "&" : "?") + "currentSchema=" + schema);
    pg.put("create_tables", true);
    pg.put("poll_interval_ms", 200L);
    ObserversConfig config = ObserversConfig.builder().backend("postgres")
        .backendSettings(Settings.of("[observers]", pg))
        .handler(HandlerConfig.builder("order-created").event("order.created").action("publish")
            .settings(Settings.of("[[observers.handlers]] #1", Map.of("subject", subject))).build())
        .subscription(SubscriptionConfig.builder(subject, "reserveInventory").durable("inv" + id).build())
        .build();
    try (ObserverEngine engine = tracing.wrap(ObserverEngine.builder().config(config).listener(tracing)
        .handler("reserveInventory", tracing.handler("reserveInventory", e -> inHandler.add(Span.current().getSpanContext())))
        .build())) {
      Span producer = tracer.spanBuilder("POST /orders").setSpanKind(SpanKind.SERVER).startSpan();
      try (Scope ignored = producer.makeCurrent()) {
        engine.onCommit(ObservedEvent.insert("tb_order", Map.of("id", "o-" + id))).completion().toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
      } finally {
        producer.end();
      }
      SpanContext p = producer.getSpanContext();
      await(Duration.ofSeconds(20), () -> !inHandler.isEmpty(), "the subscription handler");
      await(Duration.ofSeconds(5), () -> spans("process reserveInventory").size() == 1, "the subscription's span");
      SpanData send = send("order.created");
      SpanData publish = spans("process order-created").get(0);
      SpanData sub = spans("process reserveInventory").get(0);
      // POST /orders → send order.created → process order-created (the publish) → process reserveInventory
      assertThat(List.of(send, publish, sub)).extracting(SpanData::getTraceId).containsOnly(p.getTraceId());
      assertThat(send.getParentSpanId()).isEqualTo(p.getSpanId());
      assertThat(publish.getParentSpanId()).isEqualTo(send.getSpanId());
      assertThat(sub.getParentSpanId()).isEqualTo(publish.getSpanId());
      assertThat(inHandler.get(0).getSpanId()).isEqualTo(sub.getSpanId());
      // the bus row's headers carry the publish attempt's traceparent
      try (java.sql.Connection c = ds.getConnection(); java.sql.Statement st = c.createStatement();
           java.sql.ResultSet rs = st.executeQuery("SELECT headers->>'traceparent' FROM " + schema + ".observer_events")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).startsWith("00-" + p.getTraceId() + "-" + publish.getSpanId() + "-");
      }
    } finally {
      try (java.sql.Connection c = ds.getConnection(); java.sql.Statement st = c.createStatement()) {
        st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
      }
    }
  }
}
