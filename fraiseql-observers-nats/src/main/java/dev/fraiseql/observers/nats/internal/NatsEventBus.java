package dev.fraiseql.observers.nats.internal;

import dev.fraiseql.observers.ObserverException;
import dev.fraiseql.observers.spi.BusSubscription;
import dev.fraiseql.observers.spi.Delivery;
import dev.fraiseql.observers.spi.EventBus;
import dev.fraiseql.observers.spi.InboundHandler;
import dev.fraiseql.observers.spi.OutboundMessage;
import dev.fraiseql.observers.spi.PermanentFailureException;
import dev.fraiseql.observers.spi.PublishAck;
import dev.fraiseql.observers.spi.SubscriptionSpec;
import io.nats.client.JetStreamApiException;
import io.nats.client.Options;
import io.nats.client.impl.Headers;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JetStream {@link EventBus}: asynchronous publishes with {@code Nats-Msg-Id} de-duplication and
 * a bounded window of unacknowledged publishes; durable pull consumers for subscriptions.
 *
 * <p>At the window's limit a publish waits up to {@code publish_timeout_ms} for room, then fails its
 * attempt (the engine retries it with the handler's budget). For a delivery's attempt
 * ({@link #publish(OutboundMessage, Delivery)}) that wait is not part of the attempt: its
 * {@code timeout_ms} runs from the moment it has room, and an attempt abandoned while it waits is
 * never sent.
 */
public final class NatsEventBus implements EventBus {
  private static final Logger log = LoggerFactory.getLogger(NatsEventBus.class);
  private static final String MSG_ID_HEADER = "Nats-Msg-Id";
  /** How often a publish waiting for the window checks whether the engine gave up on its attempt. */
  private static final long WAIT_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

  private final NatsSettings settings;
  private final NatsConnector connector;
  private final Streams streams;
  private final Semaphore window;
  private final Set<PullSubscription> subscriptions = ConcurrentHashMap.newKeySet();
  private final ExecutorService maintenance;
  private volatile boolean closed;

  /** Starts connecting in the background at once; never fails when the server is down. */
  public NatsEventBus(NatsSettings settings, Optional<Options> hostOptions) {
    this.settings = Objects.requireNonNull(settings, "settings");
    this.connector = new NatsConnector(settings, hostOptions, this::ensureStream);
    this.streams = new Streams(settings);
    this.window = new Semaphore(settings.publishWindow);
    this.maintenance = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "fraiseql-nats-maintenance");
      t.setDaemon(true);
      return t;
    });
    connector.onReconnect(() -> {
      if (!closed) {
        runMaintenance(this::ensureStream);
        subscriptions.forEach(PullSubscription::verifyConsumer);
      }
    });
    connector.start();
  }

  @Override
  public String name() {
    return "nats";
  }

  NatsConnector connector() {
    return connector;
  }

  Streams streams() {
    return streams;
  }

  NatsSettings settings() {
    return settings;
  }

  private void runMaintenance(Runnable task) {
    try {
      maintenance.execute(task);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      log.debug("NATS bus closed: maintenance task dropped");
    }
  }

  private void ensureStream() {
    connector.now().ifPresent(this::ensureStream);
  }

  private void ensureStream(NatsConnector.Live live) {
    try {
      streams.ensure(live.management());
    } catch (JetStreamApiException e) {
      log.error("[observer] cannot check JetStream stream {}: {} (is JetStream enabled on the server? start it "
          + "with -js)", settings.stream, e.getMessage());
    } catch (Exception e) {
      log.warn("[observer] cannot check JetStream stream {} now: {}; checking again after reconnecting",
          settings.stream, NatsConnector.describe(e));
    }
  }

  @Override
  public CompletionStage<PublishAck> publish(OutboundMessage message) {
    Objects.requireNonNull(message, "message");
    if (closed) {
      return CompletableFuture.failedFuture(new IllegalStateException("the NATS bus is closed"));
    }
    try {
      if (!window.tryAcquire() && !window.tryAcquire(settings.publishTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
        return CompletableFuture.failedFuture(windowFull());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return CompletableFuture.failedFuture(new ObserverException("interrupted waiting for the NATS publish window"));
    }
    return withPermit(message, null);
  }

  /**
   * Publishes for one attempt of a delivery. Waiting for room in the window is not part of the
   * attempt: the attempt is marked queued while it waits (its {@code timeout_ms} stops and the wait
   * spends no budget; {@code publish_timeout_ms} bounds the wait, then the attempt fails and is
   * retried) and started when it has a permit. An attempt the engine gives up on while it waits stops
   * waiting and is never sent.
   */
  @Override
  public CompletionStage<PublishAck> publish(OutboundMessage message, Delivery attempt) {
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(attempt, "attempt");
    if (closed) {
      return CompletableFuture.failedFuture(new IllegalStateException("the NATS bus is closed"));
    }
    if (window.tryAcquire()) {
      if (attempt.isAbandoned()) {
        window.release();
        return CompletableFuture.failedFuture(new ObserverException("abandoned before it was published"));
      }
      return withPermit(message, attempt);
    }
    if (!attempt.markQueued()) {
      return CompletableFuture.failedFuture(new ObserverException("abandoned before it was published"));
    }
    java.util.concurrent.atomic.AtomicBoolean abandoned = new java.util.concurrent.atomic.AtomicBoolean();
    attempt.onAbandoned(() -> abandoned.set(true));
    long deadline = System.nanoTime() + settings.publishTimeout.toNanos();
    try {
      boolean acquired = false;
      while (!acquired) {
        long left = deadline - System.nanoTime();
        if (left <= 0 || abandoned.get() || closed) {
          break;
        }
        // in slices, so that an attempt the engine gives up on stops waiting promptly
        acquired = window.tryAcquire(Math.min(left, WAIT_SLICE_NANOS), TimeUnit.NANOSECONDS);
      }
      if (!acquired) {
        if (abandoned.get() || closed) {
          return CompletableFuture.failedFuture(new ObserverException("abandoned while waiting for the NATS publish window"));
        }
        return CompletableFuture.failedFuture(windowFull());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return CompletableFuture.failedFuture(new ObserverException("interrupted waiting for the NATS publish window"));
    }
    if (!attempt.markStarted()) {
      // the engine gave up on this attempt while it waited: never send it
      window.release();
      return CompletableFuture.failedFuture(new ObserverException("abandoned while waiting for the NATS publish window"));
    }
    return withPermit(message, attempt);
  }

  private ObserverException windowFull() {
    return new ObserverException("the NATS publish window is full: "
        + settings.publishWindow + " publishes have awaited their acknowledgement for over "
        + settings.publishTimeout.toMillis() + "ms; raise publish_window or check the server");
  }

  /**
   * Sends {@code message} with a window permit already taken. Before the first connection the
   * {@code attempt} (if any, and not yet started) waits for it as queued, like a wait for the window,
   * and is not sent if the engine gave up on it meanwhile.
   */
  private CompletionStage<PublishAck> withPermit(OutboundMessage message, Delivery attempt) {
    // The permit is held until jnats answers (or the message is dropped unsent), so at most
    // publish_window messages are in memory here, including those waiting for the first connection.
    Pending pending = new Pending(message);
    NatsConnector.Live live = connector.current();
    if (live != null) {
      send(live, pending);
      return pending;
    }
    // Before the first connection (rare): wait for it up to publish_timeout_ms.
    boolean queued = attempt != null && attempt.markQueued();
    connector.live().orTimeout(settings.publishTimeout.toMillis(), TimeUnit.MILLISECONDS).whenComplete((l, notLive) -> {
      if (notLive == null) {
        if ((queued && !attempt.markStarted()) || (attempt != null && attempt.isAbandoned())) {
          // the engine gave up on this attempt while it waited for the connection: never send it
          window.release();
          pending.completeExceptionally(new ObserverException("abandoned while waiting for the NATS connection"));
          return;
        }
        send(l, pending);
      } else {
        window.release();
        pending.completeExceptionally(translate(message, notLive, false));
      }
    });
    return pending;
  }

  /**
   * Sends with the window permit held through jnats' {@link io.nats.client.JetStream#publishAsync}:
   * JetStream's publish, a request to the subject whose reply is the stream's acknowledgement, read
   * by jnats into its {@link io.nats.client.api.PublishAck} (a refused publish fails the future with
   * jnats' {@link JetStreamApiException}). No timer per message: jnats fails a request that has had
   * no answer for the connection's {@code requestCleanupInterval} (set to {@code publish_timeout_ms})
   * from one periodic sweep of its own, and fails them all when the connection closes, so the permit
   * always comes back. {@link Pending} releases the permit and completes the caller's future (the
   * engine hands its settling over to its own executor).
   *
   * <p>The de-duplication id goes in as the {@code Nats-Msg-Id} header beside the event's headers
   * (what {@code PublishOptions.messageId} would add, without jnats copying the headers to merge it).
   */
  private void send(NatsConnector.Live live, Pending pending) {
    OutboundMessage message = pending.message;
    CompletableFuture<io.nats.client.api.PublishAck> f;
    try {
      f = live.jetStream().publishAsync(message.subject(), headers(message), message.payload());
    } catch (IllegalArgumentException e) {
      window.release();
      pending.completeExceptionally(new PermanentFailureException("cannot publish to NATS subject `"
          + message.subject() + "`: " + e.getMessage(), e));
      return;
    } catch (RuntimeException e) {
      window.release();
      pending.completeExceptionally(translate(message, e, false));
      return;
    }
    f.whenComplete(pending);
  }

  private static Headers headers(OutboundMessage message) {
    Headers h = new Headers();
    for (Map.Entry<String, String> e : message.headers().entrySet()) {
      h.put(e.getKey(), e.getValue());
    }
    h.put(MSG_ID_HEADER, message.deduplicationId());
    return h;
  }

  /** The caller's future, completed by the server's answer to one publish. */
  private final class Pending extends CompletableFuture<PublishAck>
      implements BiConsumer<io.nats.client.api.PublishAck, Throwable> {
    final OutboundMessage message;

    Pending(OutboundMessage message) {
      this.message = message;
    }

    @Override
    public void accept(io.nats.client.api.PublishAck ack, Throwable error) {
      window.release();
      if (error != null) {
        completeExceptionally(translate(message, error, true));
        return;
      }
      if (ack.isDuplicate() && log.isDebugEnabled()) {
        log.debug("NATS stored {} once already (Nats-Msg-Id {}), seq {}", message.subject(),
            message.deduplicationId(), ack.getSeqno());
      }
      complete(new PublishAck(message.subject(), ack.isDuplicate(), Long.toString(ack.getSeqno())));
    }
  }

  private RuntimeException translate(OutboundMessage message, Throwable error, boolean sent) {
    Throwable e = error;
    while ((e instanceof CompletionException || e instanceof ExecutionException
        || (e.getClass() == RuntimeException.class && e.getCause() != null)) && e.getCause() != null) {
      e = e.getCause();
    }
    String text = String.valueOf(e.getMessage());
    if (e instanceof ObserverException oe) {
      return oe; // PermanentFailureException included
    }
    if (e instanceof TimeoutException && !sent) {
      return new ObserverException("not connected to NATS at " + connector.servers() + " within "
          + settings.publishTimeout.toMillis() + "ms (connecting in the background): publish to " + message.subject()
          + " not attempted", e);
    }
    if (e instanceof TimeoutException) {
      return new ObserverException("no acknowledgement from NATS within " + settings.publishTimeout.toMillis()
          + "ms for " + message.subject() + " (it may have been stored: the retry carries the same Nats-Msg-Id, "
          + "which JetStream stores once)", e);
    }
    if (text.contains("503") || text.toLowerCase().contains("no responders")) {
      if (settings.autoCreateStream && streams.configuredFor(message.subject())) {
        runMaintenance(this::ensureStream);
      }
      return new ObserverException("no JetStream stream captures subject " + message.subject() + ": "
          + (streams.configuredFor(message.subject())
              ? (settings.autoCreateStream ? "creating stream " + settings.stream + " again; the retry should pass"
                  : "create it: " + streams.addCommand(List.of(String.join(",", settings.subjects)))
                      + ", or set auto_create_stream = true in [observers.nats]")
              : "add it to `subjects` in [observers.nats] (now " + settings.subjects + ") or create a stream for it: "
                  + streams.addCommand(List.of(message.subject()))), e);
    }
    if (e instanceof CancellationException || e instanceof IllegalStateException) {
      return new ObserverException("publish to NATS subject " + message.subject() + " was interrupted ("
          + NatsConnector.describe(e) + "); it is retried with the same Nats-Msg-Id", e);
    }
    return new ObserverException("publish to NATS subject " + message.subject() + " failed: "
        + NatsConnector.describe(e), e);
  }

  @Override
  public BusSubscription subscribe(SubscriptionSpec spec, InboundHandler handler) {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(handler, "handler");
    if (closed) {
      throw new IllegalStateException("the NATS bus is closed");
    }
    if (!Subjects.isValid(spec.subject(), true)) {
      throw new IllegalArgumentException("`" + spec.subject() + "` is not a NATS subject");
    }
    PullSubscription sub = new PullSubscription(this, spec, handler, subscriptions::remove);
    subscriptions.add(sub);
    sub.start();
    return sub;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (PullSubscription s : List.copyOf(subscriptions)) {
      s.close();
    }
    maintenance.shutdownNow();
    connector.close();
  }

  @Override
  public String toString() {
    return "NatsEventBus{" + connector.servers() + ", stream " + settings.stream + "}";
  }
}
