package dev.fraiseql.observers.benchmarks;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.util.Optional;
import java.util.UUID;

/** Where the servers are (the same environment overrides as the integration tests) and whether they answer. */
final class Servers {
  private Servers() {}

  static String natsUrl() {
    return env("FRAISEQL_TEST_NATS_URL", "nats://localhost:4222");
  }

  static String redisUrl() {
    return env("FRAISEQL_TEST_REDIS_URL", "redis://localhost:6379");
  }

  static String pgUrl() {
    return env("FRAISEQL_TEST_PG_URL", "jdbc:postgresql://localhost:5432/test?user=root");
  }

  private static String env(String name, String fallback) {
    String v = System.getenv(name);
    return v == null || v.isBlank() ? fallback : v.trim();
  }

  /** Empty when a TCP connection to the URL's host and port succeeds within 1 s, else why not. */
  static Optional<String> unreachable(String url, int defaultPort) {
    String u = url.startsWith("jdbc:") ? url.substring(5) : url;
    URI uri = URI.create(u.split(",")[0]);
    String host = uri.getHost() != null ? uri.getHost() : "localhost";
    int port = uri.getPort() > 0 ? uri.getPort() : defaultPort;
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), 1000);
      return Optional.empty();
    } catch (Exception e) {
      return Optional.of("no server at " + host + ":" + port + " (" + e.getMessage() + ")");
    }
  }

  /** A short random suffix so runs never see each other's streams, keys or tables. */
  static String suffix() {
    return UUID.randomUUID().toString().replace("-", "").substring(0, 10);
  }
}
