package dev.fraiseql.observers.nats;

import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.nats.internal.NatsBackend;
import dev.fraiseql.observers.nats.internal.NatsSettings;
import dev.fraiseql.observers.spi.EventBus;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.Nats;
import io.nats.client.Options;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BooleanSupplier;

/** Shared helpers for the NATS tests: server URL, unique names, polling with a deadline, server restart. */
final class NatsTestSupport {
  static final String URL = Optional.ofNullable(System.getenv("FRAISEQL_TEST_NATS_URL")).orElse("nats://localhost:4222");

  private NatsTestSupport() {}

  /** A random suffix: letters and digits only, valid in stream, subject and consumer names. */
  static String unique() {
    return UUID.randomUUID().toString().replace("-", "").substring(0, 10);
  }

  /** Polls {@code condition} every 20ms until it holds or {@code timeout} passes. */
  static boolean await(Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return true;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return condition.getAsBoolean();
  }

  /** Backend settings for a private stream {@code S<id>} capturing {@code t<id>.>}. */
  static Map<String, Object> settingsFor(String id) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("nats_url", URL);
    m.put("stream", "S" + id);
    m.put("subjects", java.util.List.of("t" + id + ".>"));
    m.put("duplicate_window_ms", 120_000L);
    m.put("reconnect_wait_ms", 250L);
    m.put("fetch_wait_ms", 250L);
    m.put("publish_timeout_ms", 3000L);
    return m;
  }

  static NatsBackend backend(Map<String, Object> settings) {
    return new NatsBackend(NatsSettings.parse(Settings.of("[observers.nats]", settings), v -> Optional.empty()),
        Optional.empty());
  }

  static EventBus bus(NatsBackend backend) {
    return backend.bus();
  }

  static Connection rawConnection() throws IOException, InterruptedException {
    return Nats.connect(new Options.Builder().server(URL).connectionTimeout(Duration.ofSeconds(2)).build());
  }

  static void deleteStream(String name) {
    try (Connection c = rawConnection()) {
      c.jetStreamManagement().deleteStream(name);
    } catch (JetStreamApiException e) {
      // already gone
    } catch (Exception e) {
      throw new IllegalStateException("cannot delete test stream " + name, e);
    }
  }

  // --- server control (the brief's exact commands) ---

  static boolean portOpen() {
    URI u = URI.create(URL.split(",")[0]);
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(u.getHost(), u.getPort() < 0 ? 4222 : u.getPort()), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  static void stopServer() throws IOException, InterruptedException {
    run("pkill", "-x", "nats-server");
    if (!await(Duration.ofSeconds(15), () -> !portOpen())) {
      throw new IllegalStateException("nats-server did not stop");
    }
  }

  static void startServer() throws IOException, InterruptedException {
    run("start-stop-daemon", "--start", "--oknodo", "--background", "--exec", "/usr/sbin/nats-server", "--",
        "-a", "127.0.0.1", "-p", "4222", "-js", "-sd", "/var/lib/nats-server", "-l", "/var/log/nats-server.log");
    if (!await(Duration.ofSeconds(20), NatsTestSupport::portOpen)) {
      throw new IllegalStateException("nats-server did not start");
    }
  }

  private static void run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).inheritIO().start();
    p.waitFor();
  }
}
