package dev.fraiseql.observers.webhook;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/** A real webhook receiver (JDK HttpServer on 127.0.0.1, random port) that records every request and answers from a script. */
public final class Receiver implements AutoCloseable {

  /** One request as received. Header names are lower-cased. */
  public record Request(String method, String path, String query, Map<String, List<String>> headers, byte[] body,
      Instant at, int clientPort) {
    public String header(String name) {
      List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
      return v == null || v.isEmpty() ? null : v.get(0);
    }

    public String bodyText() {
      return new String(body, StandardCharsets.UTF_8);
    }
  }

  /** One scripted answer. */
  public record Response(int status, Map<String, String> headers, byte[] body, Duration delay) {
    public static Response of(int status) {
      return new Response(status, Map.of(), new byte[0], Duration.ZERO);
    }

    public static Response of(int status, String body) {
      return new Response(status, Map.of(), body.getBytes(StandardCharsets.UTF_8), Duration.ZERO);
    }

    public Response withHeader(String name, String value) {
      Map<String, String> h = new LinkedHashMap<>(headers);
      h.put(name, value);
      return new Response(status, h, body, delay);
    }

    public Response after(Duration d) {
      return new Response(status, headers, body, d);
    }
  }

  private final HttpServer server;
  private final ExecutorService executor = Executors.newCachedThreadPool();
  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private final ConcurrentLinkedDeque<Response> script = new ConcurrentLinkedDeque<>();
  private volatile Response fallback = Response.of(200, "ok");
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicInteger maxInFlight = new AtomicInteger();

  public Receiver() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
  }

  /** Answers the next requests with these, in order, then with the fallback. */
  public Receiver answer(Response... responses) {
    Collections.addAll(script, responses);
    return this;
  }

  public Receiver otherwise(Response response) {
    fallback = response;
    return this;
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /** {@code http://127.0.0.1:<port><pathAndQuery>}. */
  public URI uri(String pathAndQuery) {
    return URI.create("http://127.0.0.1:" + port() + pathAndQuery);
  }

  public List<Request> requests() {
    return new ArrayList<>(requests);
  }

  public int maxConcurrent() {
    return maxInFlight.get();
  }

  private void handle(HttpExchange ex) throws IOException {
    int now = inFlight.incrementAndGet();
    maxInFlight.accumulateAndGet(now, Math::max);
    try (InputStream in = ex.getRequestBody()) {
      byte[] body = in.readAllBytes();
      Map<String, List<String>> headers = new LinkedHashMap<>();
      ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), List.copyOf(v)));
      requests.add(new Request(ex.getRequestMethod(), ex.getRequestURI().getRawPath(), ex.getRequestURI().getRawQuery(),
          headers, body, Instant.now(), ex.getRemoteAddress().getPort()));
      Response r = script.pollFirst();
      if (r == null) {
        r = fallback;
      }
      if (!r.delay().isZero()) {
        try {
          Thread.sleep(r.delay().toMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      r.headers().forEach((k, v) -> ex.getResponseHeaders().add(k, v));
      ex.sendResponseHeaders(r.status(), r.body().length == 0 ? -1 : r.body().length);
      if (r.body().length > 0) {
        try (OutputStream out = ex.getResponseBody()) {
          out.write(r.body());
        }
      }
    } catch (IOException e) {
      // the client went away (timeout tests)
    } finally {
      inFlight.decrementAndGet();
      ex.close();
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
