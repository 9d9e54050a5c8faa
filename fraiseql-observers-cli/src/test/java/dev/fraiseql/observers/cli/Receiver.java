package dev.fraiseql.observers.cli;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** A real HTTP receiver on 127.0.0.1 answering the status it is told to, keeping every request it got. */
final class Receiver implements AutoCloseable {
  record Request(String path, Map<String, List<String>> headers, String body) {}

  private final HttpServer server;
  final AtomicInteger status = new AtomicInteger(200);
  final List<Request> requests = new CopyOnWriteArrayList<>();

  Receiver() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", ex -> {
      try (InputStream in = ex.getRequestBody()) {
        String body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        requests.add(new Request(ex.getRequestURI().getPath(), Map.copyOf(ex.getRequestHeaders()), body));
      }
      byte[] answer = (status.get() >= 400 ? "receiver down" : "ok").getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(status.get(), answer.length);
      ex.getResponseBody().write(answer);
      ex.close();
    });
    server.start();
  }

  String url(String path) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + path;
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
