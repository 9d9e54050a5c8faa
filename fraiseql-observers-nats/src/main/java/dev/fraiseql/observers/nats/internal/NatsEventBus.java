package dev.fraiseql.observers.nats.internal;

import dev.fraiseql.observers.ObserverException;
import dev.fraiseql.observers.spi.BusSubscription;
import dev.fraiseql.observers.spi.EventBus;
import dev.fraiseql.observers.spi.InboundHandler;
import dev.fraiseql.observers.spi.OutboundMessage;
import dev.fraiseql.observers.spi.PermanentFailureException;
import dev.fraiseql.observers.spi.PublishAck;
import dev.fraiseql.observers.spi.SubscriptionSpec;
import io.nats.client.JetStreamApiException;
import io.nats.client.Options;
import io.nats.client.PublishOptions;
import io.nats.client.impl.Headers;
import java.util.List;
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
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JetStream {@link EventBus}: asynchronous publishes with {@code Nats-Msg-Id} de-duplication and
 * a bounded window of unacknowledged publishes; durable pull consumers for subscriptions.
 *
 * <p>At the window's limit a publish waits up to {@code publish_timeout_ms} for room, then fails its
 * attempt (the engine retries it with the handler's budget).
 */
public final class NatsEventBus implements EventBus {
  private static final Logger log = LoggerFactory.getLogger(NatsEventBus.class);

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
      if (!window.tryAcquire(settings.publishTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
        return CompletableFuture.failedFuture(new ObserverException("the NATS publish window is full: "
            + settings.publishWindow + " publishes have awaited their acknowledgement for over "
            + settings.publishTimeout.toMillis() + "ms; raise publish_window or check the server"));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return CompletableFuture.failedFuture(new ObserverException("interrupted waiting for the NATS publish window"));
    }
    // The permit is held until jnats answers (or the message is dropped unsent), so at most
    // publish_window messages are in memory here, including those waiting for the first connection.
    AtomicBoolean sent = new AtomicBoolean();
    CompletableFuture<io.nats.client.api.PublishAck> raw = new CompletableFuture<>();
    CompletableFuture<PublishAck> result = new CompletableFuture<>();
    raw.orTimeout(settings.publishTimeout.toMillis(), TimeUnit.MILLISECONDS).whenComplete((ack, error) -> {
      if (error == null) {
        if (ack.isDuplicate()) {
          log.debug("NATS stored {} once already (Nats-Msg-Id {}), seq {}", message.subject(),
              message.deduplicationId(), ack.getSeqno());
        }
        result.complete(new PublishAck(message.subject(), ack.isDuplicate(), Long.toString(ack.getSeqno())));
      } else {
        result.completeExceptionally(translate(message, error, sent.get()));
      }
    });
    connector.live().whenComplete((live, notLive) -> {
      if (notLive != null || raw.isDone()) {
        window.release();
        raw.completeExceptionally(new IllegalStateException("the NATS bus is closed"));
        return;
      }
      CompletableFuture<io.nats.client.api.PublishAck> f;
      try {
        Headers headers = new Headers();
        message.headers().forEach(headers::put);
        PublishOptions po = PublishOptions.builder().messageId(message.deduplicationId()).build();
        f = live.jetStream().publishAsync(message.subject(), headers, message.payload(), po);
        sent.set(true);
      } catch (IllegalArgumentException e) {
        window.release();
        raw.completeExceptionally(new PermanentFailureException("cannot publish to NATS subject `"
            + message.subject() + "`: " + e.getMessage(), e));
        return;
      } catch (RuntimeException e) {
        window.release();
        raw.completeExceptionally(e);
        return;
      }
      f.orTimeout(settings.publishTimeout.toMillis(), TimeUnit.MILLISECONDS).whenComplete((ack, error) -> {
        window.release();
        if (error == null) {
          raw.complete(ack);
        } else {
          raw.completeExceptionally(error);
        }
      });
    });
    return result;
  }

  private RuntimeException translate(OutboundMessage message, Throwable error, boolean sent) {
    Throwable e = error;
    while ((e instanceof CompletionException || e instanceof ExecutionException
        || (e.getClass() == RuntimeException.class && e.getCause() != null)) && e.getCause() != null) {
      e = e.getCause();
    }
    String text = String.valueOf(e.getMessage());
    if (e instanceof ObserverException oe) {
      return oe;
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
