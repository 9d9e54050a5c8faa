package dev.fraiseql.observers.micrometer;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.ObserverListener;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.SubscriptionConfig;
import dev.fraiseql.observers.micrometer.internal.HandlerMeters;
import dev.fraiseql.observers.spi.ActionResult;
import dev.fraiseql.observers.spi.DeadLetter;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Micrometer metrics for an {@link ObserverEngine}. Register it as a listener, then bind it to the
 * engine it listens to (for the gauges and the {@code action} tag):
 *
 * <pre>{@code
 * ObserverMetrics metrics = ObserverMetrics.builder(registry).build();
 * ObserverEngine engine = ObserverEngine.builder().config(path).listener(metrics).build();
 * metrics.bindTo(engine);
 * }</pre>
 *
 * <p>Meters (Micrometer names; Prometheus shows {@code fraiseql_observer_deliveries_total},
 * {@code fraiseql_observer_attempts_seconds_bucket} and so on):
 * <ul>
 *   <li>{@value #DELIVERIES} (counter; tags {@code handler}, {@code action}, {@code outcome} =
 *       {@code delivered}, {@code retried} (each retry scheduled), {@code dead_lettered},
 *       {@code duplicate}, {@code skipped} (condition false));</li>
 *   <li>{@value #ATTEMPTS} (timer, seconds, with a percentile histogram; tags {@code handler},
 *       {@code action}, {@code result} = {@code delivered}, {@code duplicate}, {@code retry},
 *       {@code failed});</li>
 *   <li>{@value #IN_FLIGHT}, {@value #QUEUED} (waiting for a worker or a retry timer) and
 *       {@value #RUNNING} (gauges);</li>
 *   <li>{@value #DEAD_LETTERS_STORED} (gauge: the dead-letter store's count, read at each scrape);</li>
 *   <li>{@value #SUBSCRIPTION_LAG} (gauge per {@code [[observers.subscribe]]}, tags {@code handler} and
 *       {@code subject}: {@link ObserverEngine#subscriptionLag}, read at most once per second; NaN when
 *       the bus cannot tell);</li>
 *   <li>{@value #OVERLOADS} (counter; tag {@code policy});</li>
 *   <li>a saturated endpoint: {@value #ENDPOINT_WAITING} (gauge: attempts waiting locally for a free
 *       slot at the handler's endpoint, a publish window or a pooled connection; such a wait is not an
 *       attempt), {@value #QUEUE_WAIT} (timer: how long they waited) and {@value #QUEUE_ABANDONED}
 *       (counter: waits that ended unsent); tags {@code handler}, {@code action};</li>
 *   <li>with {@link #bindOutbox}: {@value #OUTBOX_PENDING} and {@value #OUTBOX_OLDEST_AGE} (seconds); with
 *       {@link #bindRelay}: {@value #OUTBOX_DISPATCHED} and {@value #OUTBOX_RELAY_IN_FLIGHT}.</li>
 * </ul>
 * Tags are bounded: handler names come from the configuration (at most {@code maxHandlers} distinct
 * ones, then {@code handler="other"}); event ids, keys and payload values are never tags.
 *
 * <p>Thread-safe; the listener methods only increment pre-resolved meters.
 */
public final class ObserverMetrics implements ObserverListener {
  public static final String DELIVERIES = "fraiseql.observer.deliveries";
  public static final String ATTEMPTS = "fraiseql.observer.attempts";
  public static final String IN_FLIGHT = "fraiseql.observer.deliveries.in.flight";
  public static final String QUEUED = "fraiseql.observer.deliveries.queued";
  public static final String RUNNING = "fraiseql.observer.attempts.running";
  public static final String DEAD_LETTERS_STORED = "fraiseql.observer.dead.letters.stored";
  public static final String OVERLOADS = "fraiseql.observer.overloads";
  public static final String OUTBOX_PENDING = "fraiseql.observer.outbox.pending";
  public static final String OUTBOX_OLDEST_AGE = "fraiseql.observer.outbox.oldest.age";
  public static final String OUTBOX_DISPATCHED = "fraiseql.observer.outbox.dispatched";
  public static final String OUTBOX_RELAY_IN_FLIGHT = "fraiseql.observer.outbox.relay.in.flight";
  /**
   * Gauge: messages a {@code [[observers.subscribe]]} has not finished (not yet delivered to it, or not
   * yet acknowledged), where the bus can tell.
   */
  public static final String SUBSCRIPTION_LAG = "fraiseql.observer.subscription.lag";
  /** How long a subscription-lag reading is reused (one request to the bus per subscription per this, at most). */
  public static final Duration SUBSCRIPTION_LAG_INTERVAL = Duration.ofSeconds(1);
  /** Gauge: attempts waiting locally for their endpoint (a free slot, a publish window, a pooled connection). */
  public static final String ENDPOINT_WAITING = "fraiseql.observer.endpoint.waiting";
  /** Counter: local waits that ended without the request being sent. */
  public static final String QUEUE_ABANDONED = "fraiseql.observer.queue.abandoned";
  /** Timer: how long attempts waited locally. */
  public static final String QUEUE_WAIT = "fraiseql.observer.queue.wait";
  /** The {@code action} tag of a {@code [[observers.subscribe]]} handler. */
  public static final String SUBSCRIPTION_ACTION = "subscription";
  /** The {@code action} tag before {@link #bindTo} told which action a handler runs. */
  public static final String UNKNOWN_ACTION = "unknown";
  /** The {@code handler} tag once {@code maxHandlers} distinct names have been seen. */
  public static final String OTHER_HANDLER = "other";

  private static final Logger LOG = LoggerFactory.getLogger(ObserverMetrics.class);

  private final MeterRegistry registry;
  private final Tags commonTags;
  private final double[] percentiles;
  private final boolean histogram;
  private final int maxHandlers;
  private final Map<String, HandlerMeters> meters = new ConcurrentHashMap<>();
  /**
   * The state objects of the gauges and function counters bound here (backlog readers, the relay's
   * suppliers): Micrometer holds them weakly, so without this they are collected and read NaN.
   */
  private final java.util.List<Object> gaugeStates = new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile Map<String, String> actions = Map.of();
  private volatile Set<String> subscriptionHandlers = Set.of();
  private final LongAdder started = new LongAdder();
  private final LongAdder finished = new LongAdder();
  private final LongAdder subscriptionStarted = new LongAdder();
  private final LongAdder subscriptionFinished = new LongAdder();

  private ObserverMetrics(Builder b) {
    this.registry = b.registry;
    this.commonTags = b.tags;
    this.percentiles = b.percentiles.clone();
    this.histogram = b.histogram;
    this.maxHandlers = b.maxHandlers;
  }

  /** Metrics in {@code registry}. */
  public static Builder builder(MeterRegistry registry) {
    return new Builder(registry);
  }

  /**
   * Learns each handler's action from the engine's configuration, registers every handler's outcome
   * counters (at 0), and binds the engine's gauges. Call it right after {@code build()}; deliveries
   * counted before it (a subscription's first messages) carry {@code action="unknown"}.
   *
   * @return this
   */
  public ObserverMetrics bindTo(ObserverEngine engine) {
    Objects.requireNonNull(engine, "engine");
    Map<String, String> a = new ConcurrentHashMap<>();
    Set<String> subs = ConcurrentHashMap.newKeySet();
    for (HandlerConfig h : engine.config().handlers()) {
      a.put(h.name(), h.action());
    }
    for (SubscriptionConfig s : engine.config().subscriptions()) {
      a.putIfAbsent(s.handler(), SUBSCRIPTION_ACTION);
      subs.add(s.handler());
    }
    actions = a;
    subscriptionHandlers = subs;
    meters.keySet().removeIf(h -> !a.containsKey(h)); // re-resolve with the right action tag
    for (String h : a.keySet()) {
      meters(h);
    }
    Gauge.builder(IN_FLIGHT, engine, ObserverEngine::inFlight).tags(commonTags)
        .description("Deliveries pending in the engine (running or waiting for a retry)").register(registry);
    Gauge.builder(RUNNING, this, m -> Math.max(0, m.started.sum() - m.finished.sum())).tags(commonTags)
        .description("Attempts running now (handlers and subscriptions)").register(registry);
    Gauge.builder(QUEUED, engine, e -> Math.max(0, e.inFlight() - (started.sum() - finished.sum()
            - (subscriptionStarted.sum() - subscriptionFinished.sum()))))
        .tags(commonTags).description("Deliveries admitted and waiting for a worker or for a retry's delay").register(registry);
    Gauge.builder(DEAD_LETTERS_STORED, engine, e -> {
      try {
        return e.deadLetters().count();
      } catch (RuntimeException ex) {
        LOG.debug("[observer] metrics: could not count dead letters ({})", ex.toString());
        return Double.NaN;
      }
    }).tags(commonTags).description("Dead letters in the dead-letter store").register(registry);
    for (SubscriptionConfig sc : engine.config().subscriptions()) {
      String handler = sc.handler();
      BacklogReader lag = new BacklogReader("subscription " + handler, () -> {
        java.util.OptionalLong l = engine.subscriptionLag(handler);
        if (l.isEmpty()) {
          throw new IllegalStateException("the bus does not tell (or cannot be asked now)");
        }
        return new Backlog(l.getAsLong(), Duration.ZERO);
      }, SUBSCRIPTION_LAG_INTERVAL.toNanos(), false);
      gaugeStates.add(lag);
      Gauge.builder(SUBSCRIPTION_LAG, lag, r -> r.get().map(b -> (double) b.pending()).orElse(Double.NaN))
          .tags(commonTags.and("handler", handler, "subject", sc.subject()))
          .description("Messages on the subject the subscription has not finished: not yet delivered to it, "
              + "or delivered and not yet acknowledged (NaN when the bus cannot tell)")
          .register(registry);
    }
    return this;
  }

  /** Reads an outbox's backlog (the pg module's {@code PgOutbox.backlog}, adapted: see the README). */
  @FunctionalInterface
  public interface BacklogSource {
    Backlog read() throws Exception;
  }

  /**
   * An outbox backlog.
   *
   * @param pending rows not yet dispatched
   * @param oldestAge how long the oldest has waited (zero when none)
   */
  public record Backlog(long pending, Duration oldestAge) {}

  /**
   * Binds {@value #OUTBOX_PENDING} and {@value #OUTBOX_OLDEST_AGE} (tag {@code table}) to an outbox.
   * The source is read at most once per {@code minInterval} (both gauges share the reading, so one
   * scrape costs one query); when it fails the gauges read NaN and a WARN line is logged (once per
   * failure streak).
   *
   * @return this
   */
  public ObserverMetrics bindOutbox(String table, Duration minInterval, BacklogSource source) {
    Objects.requireNonNull(table, "table");
    Objects.requireNonNull(source, "source");
    BacklogReader reader = new BacklogReader("outbox " + table, source, minInterval.toNanos(), true);
    gaugeStates.add(reader);
    Tags t = commonTags.and("table", table);
    Gauge.builder(OUTBOX_PENDING, reader, r -> r.get().map(b -> (double) b.pending()).orElse(Double.NaN)).tags(t)
        .description("Outbox rows recorded and not yet dispatched").register(registry);
    TimeGauge.builder(OUTBOX_OLDEST_AGE, reader, TimeUnit.NANOSECONDS,
            r -> r.get().map(b -> (double) b.oldestAge().toNanos()).orElse(Double.NaN)).tags(t)
        .description("Age of the oldest outbox row not yet dispatched").register(registry);
    return this;
  }

  /**
   * Binds a relay's counters (the pg module's {@code PgOutboxRelay}: pass {@code relay::dispatchedCount}
   * and {@code relay::inFlight}): {@value #OUTBOX_DISPATCHED} (counter) and {@value #OUTBOX_RELAY_IN_FLIGHT}
   * (gauge), tag {@code table}.
   *
   * @return this
   */
  public ObserverMetrics bindRelay(String table, java.util.function.LongSupplier dispatched,
      java.util.function.IntSupplier inFlight) {
    Objects.requireNonNull(table, "table");
    Objects.requireNonNull(dispatched, "dispatched");
    Objects.requireNonNull(inFlight, "inFlight");
    Tags t = commonTags.and("table", table);
    gaugeStates.add(dispatched);
    gaugeStates.add(inFlight);
    io.micrometer.core.instrument.FunctionCounter.builder(OUTBOX_DISPATCHED, dispatched, d -> (double) d.getAsLong())
        .tags(t).description("Outbox rows the relay handed to the engine").register(registry);
    Gauge.builder(OUTBOX_RELAY_IN_FLIGHT, inFlight, i -> (double) i.getAsInt()).tags(t)
        .description("Outbox rows the relay has dispatched and not yet completed").register(registry);
    return this;
  }

  private static final class BacklogReader {
    private final String what;
    private final BacklogSource source;
    private final long minIntervalNanos;
    private final boolean warn;
    private long readAt;
    private java.util.Optional<Backlog> last = java.util.Optional.empty();
    private boolean failing;

    /** @param warn whether a failing read is logged at WARN (else DEBUG: a bus that cannot tell is no failure) */
    BacklogReader(String what, BacklogSource source, long minIntervalNanos, boolean warn) {
      this.what = what;
      this.source = source;
      this.minIntervalNanos = minIntervalNanos;
      this.warn = warn;
    }

    synchronized java.util.Optional<Backlog> get() {
      long now = System.nanoTime();
      if (readAt != 0 && now - readAt < minIntervalNanos) {
        return last;
      }
      readAt = now == 0 ? 1 : now;
      try {
        last = java.util.Optional.of(source.read());
        if (failing && warn) {
          LOG.info("[observer] metrics: {} backlog readable again", what);
        }
        failing = false;
      } catch (Exception e) {
        if (!failing && warn) {
          LOG.warn("[observer] metrics: could not read the backlog of {} ({}); its gauges read NaN until it can",
              what, e.toString());
        } else if (!failing) {
          LOG.debug("[observer] metrics: no backlog for {} ({}); its gauge reads NaN", what, e.toString());
        }
        failing = true;
        last = java.util.Optional.empty();
      }
      return last;
    }
  }

  private HandlerMeters meters(String handler) {
    HandlerMeters m = meters.get(handler);
    if (m != null) {
      return m;
    }
    if (meters.size() >= maxHandlers && !actions.containsKey(handler)) {
      handler = OTHER_HANDLER;
      m = meters.get(handler);
      if (m != null) {
        return m;
      }
    }
    String h = handler;
    return meters.computeIfAbsent(h, k -> new HandlerMeters(registry, DELIVERIES, ATTEMPTS, ENDPOINT_WAITING,
        QUEUE_ABANDONED, QUEUE_WAIT, commonTags.and("handler", k, "action", actions.getOrDefault(k, UNKNOWN_ACTION)), percentiles, histogram));
  }

  @Override
  public void attemptStarted(ObservedEvent event, String handler, int attempt) {
    started.increment();
    if (!subscriptionHandlers.isEmpty() && subscriptionHandlers.contains(handler)) {
      subscriptionStarted.increment();
    }
  }

  @Override
  public void attemptFinished(ObservedEvent event, String handler, int attempt, ActionResult result, Duration elapsed) {
    finished.increment();
    if (!subscriptionHandlers.isEmpty() && subscriptionHandlers.contains(handler)) {
      subscriptionFinished.increment();
    }
    HandlerMeters m = meters(handler);
    String r;
    if (result instanceof ActionResult.Delivered) {
      if (((ActionResult.Delivered) result).isDuplicate()) {
        r = HandlerMeters.RESULT_DUPLICATE;
      } else {
        r = HandlerMeters.RESULT_DELIVERED;
        m.delivered.increment();
      }
    } else {
      r = result instanceof ActionResult.Failed ? HandlerMeters.RESULT_FAILED : HandlerMeters.RESULT_RETRY;
    }
    m.attempt(r, elapsed.toNanos());
  }

  @Override
  public void attemptQueued(ObservedEvent event, String handler, int attempt) {
    meters(handler).waiting.incrementAndGet();
  }

  @Override
  public void attemptDequeued(ObservedEvent event, String handler, int attempt, Duration waited, boolean abandoned) {
    meters(handler).waited(waited.toNanos(), abandoned);
  }

  @Override
  public void retryScheduled(ObservedEvent event, String handler, int nextAttempt, Duration delay) {
    meters(handler).retried.increment();
  }

  @Override
  public void deadLettered(DeadLetter letter) {
    meters(letter.handler()).deadLettered.increment();
  }

  @Override
  public void duplicateSkipped(ObservedEvent event, String handler) {
    meters(handler).duplicate.increment();
  }

  @Override
  public void skipped(ObservedEvent event, String handler) {
    meters(handler).skipped.increment();
  }

  @Override
  public void overloaded(ObservedEvent event, String policy) {
    Counter.builder(OVERLOADS).tags(commonTags).tag("policy", policy)
        .description("onCommit calls that found the in-flight bound reached").register(registry).increment();
  }

  @Override
  public String toString() {
    return "ObserverMetrics{" + registry.getClass().getSimpleName() + ", " + meters.size() + " handlers}";
  }

  /** Builds {@link ObserverMetrics}. */
  public static final class Builder {
    private final MeterRegistry registry;
    private Tags tags = Tags.empty();
    private double[] percentiles = new double[0];
    private boolean histogram = true;
    private int maxHandlers = 1000;

    private Builder(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
    }

    /** Tags added to every meter (an engine's name when a process runs several). */
    public Builder tags(Iterable<Tag> tags) {
      this.tags = Tags.of(tags);
      return this;
    }

    public Builder tags(String... keyValues) {
      this.tags = Tags.of(keyValues);
      return this;
    }

    /**
     * Whether the attempt timers publish a percentile histogram (buckets from 1 ms to 1 min), for
     * {@code histogram_quantile} and heatmaps. Default true.
     */
    public Builder percentileHistogram(boolean enabled) {
      this.histogram = enabled;
      return this;
    }

    /** Client-side percentiles to publish as well (e.g. 0.5, 0.99); none by default (they cannot be aggregated). */
    public Builder percentiles(double... percentiles) {
      for (double p : percentiles) {
        if (!(p >= 0 && p <= 1)) {
          throw new IllegalArgumentException("a percentile is between 0 and 1, got " + p);
        }
      }
      this.percentiles = percentiles.clone();
      return this;
    }

    /** At most this many distinct {@code handler} tags (then {@code other}); default 1000. */
    public Builder maxHandlers(int maxHandlers) {
      if (maxHandlers < 1) {
        throw new IllegalArgumentException("maxHandlers must be at least 1, got " + maxHandlers);
      }
      this.maxHandlers = maxHandlers;
      return this;
    }

    public ObserverMetrics build() {
      return new ObserverMetrics(this);
    }
  }

  /** The tag values this binder uses, for dashboards and tests. */
  public static List<String> outcomes() {
    return List.of(HandlerMeters.DELIVERED, HandlerMeters.RETRIED, HandlerMeters.DEAD_LETTERED, HandlerMeters.DUPLICATE,
        HandlerMeters.SKIPPED);
  }
}
