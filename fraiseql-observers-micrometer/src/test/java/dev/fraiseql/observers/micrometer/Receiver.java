package dev.fraiseql.observers.micrometer;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/** A real JDK HTTP server: each path answers a script of status codes (the last one repeats). */
final class Receiver implements AutoCloseable {
  private final HttpServer server;
  private final ExecutorService pool = Executors.newFixedThreadPool(4);
  private final Map<String, int[]> scripts = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> hits = new ConcurrentHashMap<>();
  final List<String> requests = new CopyOnWriteArrayList<>();

  Receiver() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", ex -> {
      String path = ex.getRequestURI().getPath();
      ex.getRequestBody().readAllBytes();
      int n = hits.computeIfAbsent(path, k -> new AtomicInteger()).getAndIncrement();
      int[] script = scripts.getOrDefault(path, new int[] {200});
      int status = script[Math.min(n, script.length - 1)];
      requests.add(path + " " + status);
      ex.sendResponseHeaders(status, -1);
      ex.close();
    });
    server.setExecutor(pool);
    server.start();
  }

  Receiver answer(String path, int... statuses) {
    scripts.put(path, statuses);
    return this;
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
