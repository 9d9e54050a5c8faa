package dev.fraiseql.observers.examples.support;

import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.config.SubscriptionConfig;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.ConsumerInfo;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * Keeps one run of an example apart from every other run on the same NATS server: every subject of
 * a configuration gets the prefix {@code <example>_<run>.} (so {@code fraiseql.order.created} becomes
 * {@code choreo_k3x9a1.fraiseql.order.created}) and is stored in the run's own JetStream stream
 * {@code <EXAMPLE>_<RUN>}, deleted at the end.
 *
 * <p>Your services do not need this: they run their {@code fraiseql.toml} as written, on the default
 * stream {@code FRAISEQL} capturing {@code fraiseql.>}.
 */
public final class RunNamespace {
  private final String prefix;
  private final String stream;

  /** A namespace such as {@code choreo_k3x9a1.} / {@code CHOREO_K3X9A1}. */
  public RunNamespace(String example, String runId) {
    this.prefix = example + "_" + runId;
    this.stream = (example + "_" + runId).toUpperCase(Locale.ROOT);
  }

  /** The subject prefix (without the trailing dot). */
  public String prefix() {
    return prefix;
  }

  /** The run's JetStream stream. */
  public String stream() {
    return stream;
  }

  /** {@code subject} inside this run's namespace. */
  public String subject(String subject) {
    return prefix + "." + subject;
  }

  /**
   * The same configuration with every publish subject and subscription subject moved into this run's
   * namespace, and {@code [observers.nats]} pointed at the run's stream.
   */
  public ObserversConfig apply(ObserversConfig config) {
    Settings backend = config.backendSettings()
        .with("stream", stream)
        .with("subjects", List.of(prefix + ".>"))
        .with("fetch_wait_ms", 250L);
    ObserversConfig.Builder b = ObserversConfig.builder()
        .source(config.source())
        .backend(config.backend())
        .backendSettings(backend)
        .checkpointStrategy(config.checkpointStrategy())
        .idempotencyTable(config.idempotencyTable())
        .maxInFlight(config.maxInFlight())
        .overflowPolicy(config.overflowPolicy())
        .overflowTimeout(config.overflowTimeout())
        .deadLetterCapacity(config.deadLetterCapacity())
        .shutdownTimeout(config.shutdownTimeout())
        .claimTtl(config.claimTtl())
        .idempotencyStore(config.idempotencyStore().orElse(null))
        .deadLetterStore(config.deadLetterStore().orElse(null));
    for (String other : List.of("in-memory", "nats", "redis", "postgres", "webhook")) {
      if (!other.equals(config.backend())) {
        b.backendTable(other, config.backendSettings(other)); // store backends keep their [observers.<name>] keys
      }
    }
    for (HandlerConfig h : config.handlers()) {
      if (h.settings().has("subject")) {
        h = h.toBuilder().settings(h.settings().with("subject", subject(h.settings().string("subject").orElseThrow())))
            .build();
      }
      b.handler(h);
    }
    for (SubscriptionConfig s : config.subscriptions()) {
      b.subscription(SubscriptionConfig.builder(subject(s.subject()), s.handler())
          .durable(s.durable())
          .condition(s.condition().orElse(null))
          .retry(s.retry())
          .settings(s.settings())
          .location(s.location())
          .build());
    }
    return b.build();
  }

  /**
   * Waits until every durable consumer of the run's stream has acknowledged every message (nothing
   * pending, nothing waiting for an ack or a redelivery).
   *
   * @return whether that happened within {@code timeout}
   */
  public boolean awaitConsumed(String natsUrl, List<String> durables, Duration timeout) throws Exception {
    try (Connection nc = connect(natsUrl)) {
      JetStreamManagement jsm = nc.jetStreamManagement();
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        boolean all = true;
        for (String durable : durables) {
          ConsumerInfo ci = jsm.getConsumerInfo(stream, durable);
          if (ci.getNumPending() > 0 || ci.getNumAckPending() > 0) {
            all = false;
            break;
          }
        }
        if (all) {
          return true;
        }
        Thread.sleep(100);
      }
      return false;
    }
  }

  /** How many messages the run's stream holds. */
  public long messages(String natsUrl) throws Exception {
    try (Connection nc = connect(natsUrl)) {
      return nc.jetStreamManagement().getStreamInfo(stream).getStreamState().getMsgCount();
    }
  }

  /** Deletes the run's stream; returns a problem description or null. Never throws (cleanup). */
  public String deleteStream(String natsUrl) {
    try (Connection nc = connect(natsUrl)) {
      nc.jetStreamManagement().deleteStream(stream);
      return null;
    } catch (JetStreamApiException e) {
      return e.getApiErrorCode() == 10059 ? null : "could not delete stream " + stream + ": " + e.getMessage();
    } catch (IOException | InterruptedException | RuntimeException e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      return "could not delete stream " + stream + ": " + e.getMessage();
    }
  }

  /** A plain NATS connection (for the fault injector and the checks, never for the services). */
  public static Connection connect(String natsUrl) throws IOException, InterruptedException {
    return Nats.connect(new Options.Builder().server(natsUrl).connectionTimeout(Duration.ofSeconds(3))
        .maxReconnects(0).build());
  }
}
