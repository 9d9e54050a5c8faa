package dev.fraiseql.observers.pg;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** A real HTTP endpoint (JDK HttpServer on 127.0.0.1) that records each POSTed body and answers 200. */
final class HookReceiver implements AutoCloseable {
  private final HttpServer server;
  final List<String> bodies = new CopyOnWriteArrayList<>();
  private final long delayMs;

  HookReceiver(long delayMs) throws IOException {
    this.delayMs = delayMs;
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      String body;
      try (InputStream in = exchange.getRequestBody()) {
        body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      if (this.delayMs > 0) {
        try {
          Thread.sleep(this.delayMs);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      bodies.add(body);
      exchange.sendResponseHeaders(200, -1);
      exchange.close();
    });
    server.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(4));
    server.start();
  }

  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/hooks/fraiseql";
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
