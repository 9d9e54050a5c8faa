package dev.fraiseql.observers.nats.internal;

import io.nats.client.Connection;
import io.nats.client.ConnectionListener;
import io.nats.client.ErrorListener;
import io.nats.client.JetStream;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.support.Status;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the NATS connection. The first connection is made on a background thread that retries until
 * the server answers, so a server that is down never fails the host's start-up; after that jnats
 * reconnects forever ({@code maxReconnects(-1)}). Hooks run after every (re)connection.
 */
final class NatsConnector implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NatsConnector.class);
  private static final Duration MAX_CONNECT_BACKOFF = Duration.ofSeconds(5);

  /** A live connection with its JetStream contexts. */
  record Live(Connection connection, JetStream jetStream, JetStreamManagement management) {}

  private final NatsSettings settings;
  private final Options options;
  private final CompletableFuture<Live> live = new CompletableFuture<>();
  /** The live connection once there is one (the publish path's check, without touching the future). */
  private volatile Live current;
  private final CountDownLatch closing = new CountDownLatch(1);
  private final List<Runnable> reconnectHooks = new CopyOnWriteArrayList<>();
  private final Thread connectThread;
  private final java.util.function.Consumer<Live> prepare;
  private volatile boolean closed;

  NatsConnector(NatsSettings settings, Optional<Options> hostOptions, java.util.function.Consumer<Live> prepare) {
    this.settings = settings;
    this.prepare = prepare;
    this.options = buildOptions(settings, hostOptions, new Listener(hostOptions.map(Options::getConnectionListener)));
    this.connectThread = new Thread(this::connectLoop, "fraiseql-nats-connect");
    this.connectThread.setDaemon(true);
  }

  void start() {
    connectThread.start();
  }

  /**
   * Completes when the first connection is up: a copy, so that a caller's {@code orTimeout} or
   * {@code complete} never settles the connector's own future.
   */
  CompletableFuture<Live> live() {
    return live.copy();
  }

  /** The connection when there is one, else null at once. */
  Live current() {
    return current;
  }

  /** The connection when there is one, else empty at once. */
  Optional<Live> now() {
    return live.isDone() && !live.isCompletedExceptionally() ? Optional.of(live.join()) : Optional.empty();
  }

  /** Waits up to {@code timeout} for the first connection. */
  Optional<Live> await(Duration timeout) throws InterruptedException {
    try {
      return Optional.of(live.get(timeout.toMillis(), TimeUnit.MILLISECONDS));
    } catch (TimeoutException e) {
      return Optional.empty();
    } catch (ExecutionException e) {
      return Optional.empty();
    }
  }

  /** Runs {@code hook} after every reconnection (on a jnats thread: keep it short or hand it off). */
  void onReconnect(Runnable hook) {
    reconnectHooks.add(hook);
  }

  String servers() {
    return settings.redactedServers();
  }

  boolean isClosed() {
    return closed;
  }

  private void connectLoop() {
    long backoff = settings.reconnectWait.toMillis();
    int failures = 0;
    while (!closed) {
      try {
        Connection c = Nats.connect(options);
        if (closed) {
          c.close();
          return;
        }
        Live l = new Live(c, c.jetStream(), c.jetStreamManagement());
        log.info("[observer] connected to NATS at {}{}", servers(), failures > 0 ? " after " + failures + " failed attempts" : "");
        try {
          prepare.accept(l); // the stream exists before the first publish goes out
        } catch (RuntimeException e) {
          log.warn("[observer] preparing the NATS connection failed: {}", settings.scrub(describe(e)));
        }
        current = l;
        live.complete(l);
        return;
      } catch (IOException e) {
        failures++;
        if (failures == 1 || failures % 30 == 0) {
          log.warn("[observer] NATS at {} is not reachable ({}); retrying every {}ms in the background. Publishes fail "
              + "their attempt until it is (the handler's retry budget applies); subscriptions start once it is",
              servers(), settings.scrub(describe(e)), backoff);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        failures++;
        log.error("[observer] cannot connect to NATS at {}: {}", servers(), settings.scrub(describe(e)));
      }
      try {
        if (closing.await(backoff, TimeUnit.MILLISECONDS)) {
          return;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      backoff = Math.min(backoff * 2, Math.max(MAX_CONNECT_BACKOFF.toMillis(), settings.reconnectWait.toMillis()));
    }
  }

  /** An exception's class and message; jnats messages name servers, never credentials. */
  static String describe(Throwable e) {
    String m = e.getMessage();
    return e.getClass().getSimpleName() + (m == null ? "" : ": " + Redact.url(m));
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    closing.countDown();
    current = null;
    live.completeExceptionally(new IllegalStateException("the NATS bus is closed"));
    if (live.isDone() && !live.isCompletedExceptionally()) {
      closeQuietly(live.join().connection());
    } else {
      try {
        connectThread.join(settings.connectTimeout.toMillis() + 1000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static void closeQuietly(Connection c) {
    try {
      c.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      log.debug("closing the NATS connection failed", e);
    }
  }

  private final class Listener implements ConnectionListener, ErrorListener {
    private final Optional<ConnectionListener> host;
    private final java.util.concurrent.atomic.AtomicBoolean disconnected = new java.util.concurrent.atomic.AtomicBoolean();

    Listener(Optional<ConnectionListener> host) {
      this.host = host;
    }

    @Override
    public void connectionEvent(Connection conn, Events type) {
      host.ifPresent(h -> h.connectionEvent(conn, type));
      switch (type) {
        case DISCONNECTED -> {
          if (!closed && now().isPresent() && !disconnected.getAndSet(true)) {
            log.warn("[observer] disconnected from NATS at {}; reconnecting (publishes wait in the reconnect buffer "
                + "or fail their attempt)", servers());
          }
        }
        case RECONNECTED -> {
          disconnected.set(false);
          log.info("[observer] reconnected to NATS at {}", servers());
          for (Runnable hook : reconnectHooks) {
            try {
              hook.run();
            } catch (RuntimeException e) {
              log.warn("[observer] NATS reconnect hook failed: {}", settings.scrub(describe(e)));
            }
          }
        }
        case CLOSED -> {
          if (!closed && now().isPresent()) {
            log.error("[observer] the NATS connection to {} was closed", servers());
          }
        }
        default -> log.debug("NATS connection event {}", type);
      }
    }

    @Override
    public void errorOccurred(Connection conn, String error) {
      log.warn("[observer] NATS server error: {}", settings.scrub(Redact.url(error)));
    }

    @Override
    public void exceptionOccurred(Connection conn, Exception exp) {
      log.debug("NATS connection exception: {}", settings.scrub(describe(exp)));
    }

    @Override
    public void pullStatusError(Connection conn, JetStreamSubscription sub, Status status) {
      log.warn("[observer] NATS pull error: {} {}", status.getCode(), status.getMessage());
    }
  }

  private static Options buildOptions(NatsSettings s, Optional<Options> hostOptions, Listener listener) {
    Options.Builder b;
    if (hostOptions.isPresent()) {
      b = new Options.Builder(hostOptions.get()).connectionListener(listener);
      publishTimeouts(b, s);
      if (hostOptions.get().getErrorListener() == null) {
        b.errorListener(listener);
      }
      return b.build();
    }
    b = new Options.Builder()
        .servers(s.servers.toArray(new String[0]))
        .connectionName("fraiseql-observers")
        .maxReconnects(-1)
        .reconnectWait(s.reconnectWait)
        .connectionTimeout(s.connectTimeout)
        .connectionListener(listener)
        .errorListener(listener);
    publishTimeouts(b, s);
    s.credentialsFile.ifPresent(p -> b.authHandler(Nats.credentials(p.toString())));
    s.token.ifPresent(b::token);
    if (s.user.isPresent()) {
      b.userInfo(s.user.get().toCharArray(), s.password.orElse(new char[0]));
    }
    if (s.sslContext.isPresent()) {
      b.sslContext(s.sslContext.get());
    } else if (s.tls) {
      try {
        b.sslContext(SSLContext.getDefault());
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("the JVM has no default TLS context", e);
      }
    }
    return b.build();
  }

  /**
   * Publishes are requests on this connection (see {@code NatsEventBus.send}). Unanswered ones: jnats
   * gives each request the connection's {@code requestCleanupInterval} as its timeout and fails the
   * overdue ones from one periodic sweep with that period (so after one to two intervals), with a
   * {@link TimeoutException} under {@code useTimeoutException}. {@code reportNoResponders}: a publish
   * to a subject no stream captures fails with the server's 503 status (not a bare cancellation), which
   * the bus turns into its "no JetStream stream captures subject" error. These settings apply to this
   * backend's own connection only (also when built from the host's {@link Options}); its other
   * traffic (stream management, pull consumers, key-value) uses explicit timeouts and is unaffected.
   */
  private static void publishTimeouts(Options.Builder b, NatsSettings s) {
    b.requestCleanupInterval(s.publishTimeout).useTimeoutException().reportNoResponders();
  }
}
