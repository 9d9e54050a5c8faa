package dev.fraiseql.observers.redis;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import redis.clients.jedis.RedisClient;

/**
 * Stops and restarts the local Redis (6379) with the project's exact commands, and always leaves it
 * running. Redis runs without persistence here: a restart loses every stream, group and key.
 */
final class RedisServer {
  static final List<String> STOP = List.of("redis-cli", "-p", "6379", "shutdown", "nosave");
  static final List<String> START = List.of("redis-server", "--daemonize", "yes", "--bind", "127.0.0.1",
      "-::1", "--port", "6379", "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile",
      "/var/log/redis/ci.log");

  private RedisServer() {}

  static void assumeLocal() {
    assumeTrue(RedisTestSupport.url().equals("redis://localhost:6379"),
        "restart tests only run against the local server on 6379");
  }

  static boolean portOpen() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", 6379), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  static boolean answers() {
    try (RedisClient j = RedisTestSupport.raw()) {
      return "PONG".equals(j.ping());
    } catch (RuntimeException e) {
      return false;
    }
  }

  static void run(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
    if (!p.waitFor(20, TimeUnit.SECONDS)) {
      p.destroy();
    }
  }

  /** Stops Redis and waits until its port is closed. Callers must call {@link #start()} in a finally. */
  static void stop() throws Exception {
    run(STOP);
    if (!RedisTestSupport.await(Duration.ofSeconds(15), () -> !portOpen())) {
      throw new IllegalStateException("redis did not stop");
    }
  }

  /** Starts Redis (if it does not answer) and waits until it answers PING. */
  static void start() throws Exception {
    if (answers()) {
      return;
    }
    run(START);
    if (!RedisTestSupport.await(Duration.ofSeconds(20), RedisServer::answers)) {
      throw new IllegalStateException("redis did not come back on 6379");
    }
  }

  static void restart() throws Exception {
    assumeLocal();
    try {
      stop();
    } finally {
      start();
    }
  }
}
