package dev.fraiseql.observers.examples.support;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * A local HTTP receiver standing in for a downstream service (an email service, a fulfilment
 * webhook). It records every request and answers with the status its responder picks.
 */
public final class Receiver implements AutoCloseable {
  /** One request as received. */
  public record Request(String path, Map<String, String> headers, String body, int status) {
    /** A header by name (case-insensitive), or "". */
    public String header(String name) {
      for (Map.Entry<String, String> e : headers.entrySet()) {
        if (e.getKey().equalsIgnoreCase(name)) {
          return e.getValue();
        }
      }
      return "";
    }
  }

  private final HttpServer server;
  private final List<Request> requests = new CopyOnWriteArrayList<>();

  /**
   * Starts a receiver on a free port of 127.0.0.1.
   *
   * @param responder picks the status for a request (path, headers, body; status ignored)
   * @param log called with each request once answered (for printing)
   */
  public Receiver(Function<Request, Integer> responder, java.util.function.Consumer<Request> log) throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      String body;
      try (InputStream in = exchange.getRequestBody()) {
        body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
      exchange.getRequestHeaders().forEach((k, v) -> headers.put(k, String.join(",", v)));
      Request asked = new Request(exchange.getRequestURI().getPath(), headers, body, 0);
      int status;
      try {
        status = responder.apply(asked);
      } catch (RuntimeException e) {
        status = 500;
      }
      Request answered = new Request(asked.path(), headers, body, status);
      requests.add(answered);
      log.accept(answered);
      exchange.sendResponseHeaders(status, -1);
      exchange.close();
    });
    server.start();
  }

  /** {@code http://127.0.0.1:<port>} followed by {@code path}. */
  public String url(String path) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + path;
  }

  /** Every request so far, in arrival order. */
  public List<Request> requests() {
    return new ArrayList<>(requests);
  }

  /** The requests to {@code path}. */
  public List<Request> requests(String path) {
    return requests.stream().filter(r -> r.path().equals(path)).toList();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
