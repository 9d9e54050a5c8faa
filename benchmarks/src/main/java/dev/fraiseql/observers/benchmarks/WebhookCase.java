package dev.fraiseql.observers.benchmarks;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.spi.OutboundMessage;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * webhook: engine → webhook action → a local JDK {@link HttpServer} receiver, against a raw
 * {@link HttpClient} (HTTP/1.1, like the action on plain http) posting the same event JSON to the same
 * receiver with the same number of requests in flight ({@code max_concurrency}, 16 by default). Both
 * sides build a fresh order event per request; ours serializes it inside the engine, raw calls
 * {@code toJson()} and sends the same headers. The receiver counts the requests (and their bytes) each side sent.
 */
final class WebhookCase implements BenchCase {
  static final int CONCURRENCY = 16;
  private static final String HANDLER = "order-webhook";

  @Override
  public String name() {
    return "webhook";
  }

  @Override
  public Optional<String> unavailable() {
    return Optional.empty();
  }

  /** The receiver: counts requests and body bytes per path, answers 200 with no body. */
  static final class Receiver implements AutoCloseable {
    final HttpServer server;
    final ExecutorService pool = Executors.newFixedThreadPool(8, CoreCase.named("bench-receiver"));
    final LongAdder ours = new LongAdder();
    final LongAdder raw = new LongAdder();
    final AtomicLong bad = new AtomicLong();
    final LongAdder bytes = new LongAdder();

    Receiver() throws IOException {
      server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 1024);
      server.createContext("/ours", x -> handle(x, ours));
      server.createContext("/raw", x -> handle(x, raw));
      server.setExecutor(pool);
      server.start();
    }

    private void handle(HttpExchange x, LongAdder counter) throws IOException {
      try (x; InputStream in = x.getRequestBody()) {
        byte[] body = in.readAllBytes();
        bytes.add(body.length);
        if (body.length < 200 || !"POST".equals(x.getRequestMethod())) {
          bad.incrementAndGet();
          x.sendResponseHeaders(400, -1);
          return;
        }
        counter.increment();
        x.sendResponseHeaders(200, -1);
      }
    }

    String url(String path) {
      return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    @Override
    public void close() {
      server.stop(0);
      pool.shutdownNow();
    }
  }

  /**
   * One raw POST holding a window permit; a failed one is sent once more (the JDK server now and then
   * closes a kept-alive connection under the client, which the engine's side retries too).
   */
  private static void rawPost(HttpClient client, URI uri, byte[] body, String eventId, String eventName, int tries,
      Semaphore window, LongAdder failed) {
    // the same request the webhook action sends: body and headers (a receiver needs the ids to de-duplicate)
    HttpRequest req = HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
        .header("User-Agent", "fraiseql-observers-java/bench")
        .header("Fraiseql-Delivery-Attempt", "1")
        .header("Fraiseql-Delivery-Id", eventId + ":" + HANDLER)
        .header(OutboundMessage.HEADER_EVENT_ID, eventId)
        .header(OutboundMessage.HEADER_EVENT_NAME, eventName)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
    client.sendAsync(req, HttpResponse.BodyHandlers.discarding()).whenComplete((resp, err) -> {
      if (err == null && resp.statusCode() == 200) {
        window.release();
      } else if (tries > 1) {
        rawPost(client, uri, body, eventId, eventName, tries - 1, window, failed);
      } else {
        failed.increment();
        window.release();
      }
    });
  }

  @Override
  public List<Row> run(Options o) throws Exception {
    long n = o.count(20_000, 200);
    try (Receiver rx = new Receiver()) {
      String toml = "[observers]\nbackend = \"in-memory\"\n\n[[observers.handlers]]\nname = \"" + HANDLER + "\"\n"
          + "event = \"order.created\"\naction = \"webhook\"\nwebhook_url = \"" + rx.url("/ours") + "\"\n"
          + "max_concurrency = " + CONCURRENCY + "\n";
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      URI rawUri = URI.create(rx.url("/raw"));
      Semaphore window = new Semaphore(CONCURRENCY);
      LongAdder rawFailed = new LongAdder();
      AtomicLong seq = new AtomicLong();
      try (ObserverEngine engine = ObserverEngine.builder().configToml(toml).build()) {
        Bench.Side ours = count -> {
          long before = rx.ours.sum();
          Bench.drive(CoreCase.PRODUCERS, count, i -> engine.onCommit(Payload.order(seq.incrementAndGet())));
          long got = Bench.awaitCount(Bench.budget(count), () -> rx.ours.sum() - before, count, "the receiver (ours)");
          Bench.await(java.time.Duration.ofSeconds(30), () -> engine.inFlight() == 0, "in-flight deliveries to end");
          return got;
        };
        Bench.Side raw = count -> {
          long before = rx.raw.sum();
          Bench.drive(CoreCase.PRODUCERS, count, i -> {
            ObservedEvent e = Payload.order(seq.incrementAndGet());
            byte[] body = e.toJson();
            window.acquire();
            rawPost(client, rawUri, body, e.id().toString(), e.name(), 2, window, rawFailed);
          });
          long got = Bench.awaitCount(Bench.budget(count), () -> rx.raw.sum() - before, count, "the receiver (raw)");
          Bench.await(java.time.Duration.ofSeconds(30), () -> window.availablePermits() == CONCURRENCY, "raw responses");
          return got;
        };
        Bench.Comparison c = Bench.compare(o, n, ours, raw);
        if (rx.bad.get() > 0 || rawFailed.sum() > 0) {
          throw new IllegalStateException("the receiver refused " + rx.bad.get() + " requests; raw failures: " + rawFailed.sum());
        }
        Map<String, Object> notes = new LinkedHashMap<>();
        notes.put("concurrency", CONCURRENCY);
        notes.put("raw_request", "same body and headers as ours (ids, attempt, event name, user agent)");
        notes.put("producers", CoreCase.PRODUCERS);
        notes.put("avg_body_bytes", rx.bytes.sum() / Math.max(1, rx.ours.sum() + rx.raw.sum()));
        return List.of(Row.ratio("webhook", c, 0.85, notes));
      }
    }
  }
}
