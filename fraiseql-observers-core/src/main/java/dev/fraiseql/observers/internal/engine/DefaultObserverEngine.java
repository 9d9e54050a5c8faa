package dev.fraiseql.observers.internal.engine;

import dev.fraiseql.observers.CloseReport;
import dev.fraiseql.observers.DeadLetters;
import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.Dispatch;
import dev.fraiseql.observers.DryRun;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.ObserverException;
import dev.fraiseql.observers.ObserverOverloadedException;
import dev.fraiseql.observers.config.ConfigLocation;
import dev.fraiseql.observers.config.ConfigProblem;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.OverflowPolicy;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.config.SubscriptionConfig;
import dev.fraiseql.observers.config.Trigger;
import dev.fraiseql.observers.internal.condition.Condition;
import dev.fraiseql.observers.internal.condition.ConditionCompiler;
import dev.fraiseql.observers.internal.condition.ConditionSyntaxException;
import dev.fraiseql.observers.internal.memory.Subjects;
import dev.fraiseql.observers.spi.Action;
import dev.fraiseql.observers.spi.ActionContext;
import dev.fraiseql.observers.spi.ActionProvider;
import dev.fraiseql.observers.spi.Backend;
import dev.fraiseql.observers.spi.BusSubscription;
import dev.fraiseql.observers.spi.DeadLetter;
import dev.fraiseql.observers.spi.DeadLetterQuery;
import dev.fraiseql.observers.spi.EventBus;
import dev.fraiseql.observers.spi.SubscriptionSpec;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/** The engine behind {@link ObserverEngine}. */
public final class DefaultObserverEngine implements ObserverEngine {
  /** Keys every handler may carry, whatever its action (validated by the config loader). */
  /** Keys of a subscription the engine reads itself (besides the loader's subject, handler, durable...). */
  static final List<String> SUBSCRIPTION_KEYS = List.of("action", "ack_wait_ms", "max_in_flight");

  public static final List<String> COMMON_HANDLER_KEYS = List.of("name", "event", "table", "operation", "action",
      "type", "condition", "max_attempts", "backoff_strategy", "initial_delay_ms", "max_delay_ms", "jitter",
      "timeout_ms", "synchronous", "synchronous_timeout_ms");

  private final ObserversConfig config;
  private final Runtime rt;
  private final Router router;
  private final Map<String, HandlerRuntime> handlersByName;
  private final Map<String, HandlerRuntime> subscriptionHandlers;
  private final List<BusSubscription> subscriptions;
  /** The open subscriptions by handler, for {@link #subscriptionLag}. */
  private final Map<String, BusSubscription> subscriptionsByHandler = new java.util.concurrent.ConcurrentHashMap<>();
  private final Resources resources;
  private final InFlightGate gate;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final DeadLettersView deadLetters = new DeadLettersView();
  private volatile CloseReport closeReport;
  private volatile java.util.concurrent.ScheduledFuture<?> sweeper;

  private DefaultObserverEngine(ObserversConfig config, Runtime rt, Router router, Map<String, HandlerRuntime> handlersByName,
      Map<String, HandlerRuntime> subscriptionHandlers, List<BusSubscription> subscriptions, Resources resources) {
    this.config = config;
    this.rt = rt;
    this.router = router;
    this.handlersByName = handlersByName;
    this.subscriptionHandlers = subscriptionHandlers;
    this.subscriptions = subscriptions;
    this.resources = resources;
    this.gate = new InFlightGate(config.maxInFlight(), rt.tasks::removedTotal);
  }

  /** Builds and starts an engine. */
  public static ObserverEngine start(EngineSpec spec) {
    ObserversConfig cfg = spec.config();
    Resources res = new Resources(spec);
    List<ConfigProblem> problems = new ArrayList<>();
    try {
      Runtime rt = res.runtime(problems);
      EventBus bus = res.lazyBus();
      Map<String, HandlerRuntime> byName = new LinkedHashMap<>();
      List<HandlerRuntime> handlers = new ArrayList<>();
      List<Trigger> triggers = new ArrayList<>();
      for (HandlerConfig hc : cfg.handlers()) {
        Action action = res.action(hc.name(), hc.action(), hc.settings(), hc.location(), bus, problems);
        Condition condition = compile(hc.condition(), hc.location(), problems);
        if (action != null && condition != null) {
          HandlerRuntime h = new HandlerRuntime(handlers.size(), hc.name(), action, condition, hc.retry(),
              hc.synchronous(), hc.synchronousTimeout(), Optional.empty(), keyOrder(rt, hc.ordering(), hc.orderingKey(), hc.location(), problems));
          handlers.add(h);
          triggers.add(hc.trigger());
          byName.put(h.name(), h);
        }
      }
      Map<String, HandlerRuntime> subHandlers = new LinkedHashMap<>();
      List<SubscriptionConfig> subs = new ArrayList<>();
      for (SubscriptionConfig sc : cfg.subscriptions()) {
        String subjectError = Subjects.validate(sc.subject());
        if (subjectError != null) {
          problems.add(new ConfigProblem(sc.location(), "subject", subjectError, "use a subject such as fraiseql.order.created"));
        }
        Action action = res.subscriptionAction(sc, bus, problems);
        Condition condition = compile(sc.condition(), sc.location(), problems);
        if (sc.ordering() == dev.fraiseql.observers.config.Ordering.KEY) {
          problems.add(new ConfigProblem(sc.location(), "ordering",
              dev.fraiseql.observers.internal.config.TomlConfigLoader.SUBSCRIPTION_ORDERING,
              dev.fraiseql.observers.internal.config.TomlConfigLoader.SUBSCRIPTION_ORDERING_FIX));
        }
        if (action != null && condition != null && subjectError == null) {
          subHandlers.put(sc.handler(), new HandlerRuntime(-1, sc.handler(), action, condition, sc.retry(), false,
              Duration.ZERO, Optional.of(sc.subject()), null));
          subs.add(sc);
        }
      }
      if (!problems.isEmpty()) {
        // a provider may report a key the engine already reported: each problem once
        throw new ObserverConfigException(cfg.source(), List.copyOf(new java.util.LinkedHashSet<>(problems)));
      }
      Router router = new Router(handlers, triggers);
      List<BusSubscription> open = new ArrayList<>();
      DefaultObserverEngine engine = new DefaultObserverEngine(cfg, rt, router, byName, subHandlers, open, res);
      List<HandlerRuntime> all = new ArrayList<>(handlers);
      all.addAll(subHandlers.values()); // their dead letters replay as deliveries
      long sweep = Runtime.sweepIntervalMillis(all);
      engine.sweeper = rt.scheduler.scheduleAtFixedRate(rt::sweepTimeouts, sweep, sweep, TimeUnit.MILLISECONDS);
      for (SubscriptionConfig sc : spec.openSubscriptions() ? subs : List.<SubscriptionConfig>of()) {
        SubscriptionRuntime sr = new SubscriptionRuntime(rt, subHandlers.get(sc.handler()), sc.subject());
        Settings s = sc.settings();
        SubscriptionSpec subSpec = new SubscriptionSpec(sc.subject(), sc.durable(),
            s.millis("ack_wait_ms", SubscriptionSpec.DEFAULT_ACK_WAIT),
            s.intValue("max_in_flight", SubscriptionSpec.DEFAULT_MAX_IN_FLIGHT, 1, 100_000), s);
        BusSubscription opened = bus.subscribe(subSpec, sr);
        open.add(opened);
        engine.subscriptionsByHandler.put(sc.handler(), opened);
        rt.log().info("[observer] subscribed {} → {} (durable {}, bus {})", sc.subject(), sc.handler(), sc.durable(), bus.name());
      }
      rt.log().info("[observer] engine started: backend={}, {} handler{}, {} subscription{}, checkpoint={}, "
              + "dead letters in {}, max_in_flight={} ({})", cfg.backend(), handlers.size(), handlers.size() == 1 ? "" : "s",
          open.size(), open.size() == 1 ? "" : "s", cfg.checkpointStrategy().configName(), res.deadLetterStoreName,
          cfg.maxInFlight(), cfg.overflowPolicy().configName());
      return engine;
    } catch (RuntimeException e) {
      res.closeAll();
      throw e;
    }
  }

  /**
   * Checks the configuration as {@link #start} does, without starting anything: the main backend's
   * provider and keys are checked but the backend is not created (no connection), actions are created
   * against a bus that refuses to publish, no store is opened and no subscription made.
   */
  public static DryRun dryRun(EngineSpec spec) {
    ObserversConfig cfg = spec.config();
    Resources res = new Resources(spec);
    List<ConfigProblem> problems = new ArrayList<>();
    try {
      res.checkBackend(cfg.backend(), problems);
      EventBus bus = new DryRunBus(cfg.backend());
      List<HandlerConfig> configs = new ArrayList<>();
      List<Action> actions = new ArrayList<>();
      List<Condition> conditions = new ArrayList<>();
      for (HandlerConfig hc : cfg.handlers()) {
        Action action = res.action(hc.name(), hc.action(), hc.settings(), hc.location(), bus, problems);
        Condition condition = compile(hc.condition(), hc.location(), problems);
        if (action != null && condition != null) {
          configs.add(hc);
          actions.add(action);
          conditions.add(condition);
        }
      }
      for (SubscriptionConfig sc : cfg.subscriptions()) {
        String subjectError = Subjects.validate(sc.subject());
        if (subjectError != null) {
          problems.add(new ConfigProblem(sc.location(), "subject", subjectError, "use a subject such as fraiseql.order.created"));
        }
        res.subscriptionAction(sc, bus, problems);
        compile(sc.condition(), sc.location(), problems);
      }
      if (!problems.isEmpty()) {
        throw new ObserverConfigException(cfg.source(), List.copyOf(new java.util.LinkedHashSet<>(problems)));
      }
      return new DryRunPlan(cfg, configs, actions, conditions, res);
    } catch (RuntimeException e) {
      res.closeAll();
      throw e;
    }
  }

  /** What {@link #dryRun} returns. */
  private static final class DryRunPlan implements DryRun {
    private final ObserversConfig config;
    private final List<HandlerConfig> handlers;
    private final List<Action> actions;
    private final List<Condition> conditions;
    private final Resources resources;
    private final AtomicBoolean closed = new AtomicBoolean();

    DryRunPlan(ObserversConfig config, List<HandlerConfig> handlers, List<Action> actions, List<Condition> conditions,
        Resources resources) {
      this.config = config;
      this.handlers = List.copyOf(handlers);
      this.actions = List.copyOf(actions);
      this.conditions = List.copyOf(conditions);
      this.resources = resources;
    }

    @Override
    public ObserversConfig config() {
      return config;
    }

    @Override
    public List<Handler> handlers() {
      List<Handler> out = new ArrayList<>(handlers.size());
      for (int i = 0; i < handlers.size(); i++) {
        out.add(new Handler(handlers.get(i), actions.get(i).describe()));
      }
      return out;
    }

    @Override
    public List<Match> explain(ObservedEvent event) {
      List<Match> out = new ArrayList<>();
      for (int i = 0; i < handlers.size(); i++) {
        HandlerConfig hc = handlers.get(i);
        if (!hc.trigger().matches(event)) {
          continue;
        }
        Action action = actions.get(i);
        boolean holds = conditions.get(i).test(event);
        Optional<dev.fraiseql.observers.spi.ActionPreview> preview = Optional.empty();
        Optional<String> error = Optional.empty();
        if (holds) {
          try {
            preview = action.preview(new dev.fraiseql.observers.spi.Delivery(event, hc.name(), 1));
          } catch (RuntimeException e) {
            error = Optional.of(e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
          }
        }
        out.add(new Match(hc, holds, action.describe(), preview, error));
      }
      return out;
    }

    @Override
    public void close() {
      if (closed.compareAndSet(false, true)) {
        resources.closeAll();
      }
    }

    @Override
    public String toString() {
      return "DryRun{" + config + "}";
    }
  }

  /** The bus a dry run's actions see: it names the configured backend and refuses to publish or subscribe. */
  private static final class DryRunBus implements EventBus {
    private final String name;

    DryRunBus(String name) {
      this.name = name;
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public CompletionStage<dev.fraiseql.observers.spi.PublishAck> publish(dev.fraiseql.observers.spi.OutboundMessage message) {
      return CompletableFuture.failedFuture(new IllegalStateException("a dry run publishes nothing"));
    }

    @Override
    public BusSubscription subscribe(SubscriptionSpec spec, dev.fraiseql.observers.spi.InboundHandler handler) {
      throw new IllegalStateException("a dry run subscribes to nothing");
    }
  }

  /** The per-key order of a handler with {@code ordering = "key"} (null otherwise, or with a problem if its key path is bad). */
  private static KeyOrder keyOrder(Runtime rt, dev.fraiseql.observers.config.Ordering ordering, Optional<String> keyPath,
      ConfigLocation at, List<ConfigProblem> problems) {
    try {
      return rt.keyOrder(ordering, keyPath);
    } catch (ConditionSyntaxException e) {
      problems.add(new ConfigProblem(at, "ordering_key", "invalid ordering_key: " + e.getMessage()
          + " (at character " + (e.position() + 1) + " of `ordering_key`)",
          "name one field path, as in conditions: customer_id, new.customer_id, data.new.customer_id or context.tenant_id"));
      return null;
    }
  }

  private static Condition compile(Optional<String> source, ConfigLocation at, List<ConfigProblem> problems) {
    if (source.isEmpty()) {
      return Condition.ALWAYS;
    }
    try {
      return ConditionCompiler.compile(source.get());
    } catch (ConditionSyntaxException e) {
      // the condition's text is not repeated: after ${VAR} expansion it could hold a secret
      problems.add(new ConfigProblem(at, "condition", "invalid condition: " + e.getMessage()
          + " (at character " + (e.position() + 1) + " of `condition`)", "see the condition language in the README"));
      return null;
    }
  }

  @Override
  public Dispatch onCommit(ObservedEvent event) {
    if (closed.get()) {
      throw new IllegalStateException("the observer engine is closed; event " + event.id() + " was not dispatched");
    }
    HandlerRuntime[] matched = router.match(event);
    if (matched.length == 0) {
      return DispatchHandle.none(event);
    }
    if (!rt.listeners.isEmpty()) {
      rt.listeners.matched(event, DispatchHandle.names(matched));
    }
    Object[] slots = new Object[matched.length];
    int toStart = 0;
    for (int i = 0; i < matched.length; i++) {
      HandlerRuntime h = matched[i];
      if (h.condition().test(event)) {
        slots[i] = new DeliveryTask(rt, h, event);
        toStart++;
      } else {
        DeliveryOutcome o = new DeliveryOutcome(h.name(), DeliveryOutcome.Status.SKIPPED, 0, "condition is false", Duration.ZERO);
        slots[i] = o;
        if (!rt.listeners.isEmpty()) {
          rt.listeners.skipped(event, h.name());
          rt.listeners.completed(event, o);
        }
      }
    }
    if (toStart > 0) {
      admit(event, slots, toStart);
    }
    return new DispatchHandle(event, matched, slots);
  }

  /** Takes room for the deliveries under the overflow policy, then starts them in definition order. */
  private void admit(ObservedEvent event, Object[] slots, int n) {
    if (!gate.tryAcquire(n)) {
      rt.listeners.overloaded(event, config.overflowPolicy().configName());
      OverflowPolicy policy = config.overflowPolicy();
      if (policy == OverflowPolicy.REJECT) {
        throw new ObserverOverloadedException("observer engine overloaded: " + gate.inFlight()
            + " deliveries in flight (max_in_flight=" + config.maxInFlight() + "); event " + event.id()
            + " was not dispatched (overflow_policy=reject)");
      }
      boolean room = false;
      if (policy == OverflowPolicy.BLOCK) {
        try {
          room = gate.acquire(n, config.overflowTimeout().toMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      if (!room) {
        String reason = "overloaded: " + gate.inFlight() + " deliveries in flight (max_in_flight=" + config.maxInFlight()
            + ", overflow_policy=" + policy.configName() + ")";
        for (Object s : slots) {
          if (s instanceof DeliveryTask) {
            ((DeliveryTask) s).deadLetterOverloaded(reason);
          }
        }
        return;
      }
    }
    if (rt.log().isDebugEnabled()) {
      for (Object s : slots) {
        if (s instanceof DeliveryTask) {
          DeliveryTask t = (DeliveryTask) s;
          try (Runtime.MdcScope ignored = Runtime.mdc(event, t.handler.name())) {
            rt.log().debug("[observer] {} fired → {}{}", Runtime.label(event), t.handler.name(), Runtime.req(event));
          }
        }
      }
    }
    for (Object s : slots) {
      if (s instanceof DeliveryTask) {
        ((DeliveryTask) s).start();
      }
    }
  }

  @Override
  public List<Dispatch> onCommit(List<ObservedEvent> events) {
    List<Dispatch> out = new ArrayList<>(events.size());
    for (ObservedEvent e : events) {
      out.add(onCommit(e));
    }
    return out;
  }

  @Override
  public DeadLetters deadLetters() {
    return deadLetters;
  }

  @Override
  public ObserversConfig config() {
    return config;
  }

  @Override
  public int inFlight() {
    return gate.inFlight();
  }

  @Override
  public java.util.OptionalLong subscriptionLag(String handler) {
    BusSubscription s = subscriptionsByHandler.get(handler);
    if (s == null) {
      return java.util.OptionalLong.empty();
    }
    try {
      return s.lag();
    } catch (RuntimeException e) {
      rt.log().debug("[observer] subscription lag of {}: {}", handler, e.toString());
      return java.util.OptionalLong.empty();
    }
  }


  @Override
  public dev.fraiseql.observers.BackendHealth health() {
    String name = config.backend();
    if (closed.get()) {
      return dev.fraiseql.observers.BackendHealth.down("the engine is closed", java.util.Map.of("backend", name));
    }
    Backend main = resources.mainBackend();
    dev.fraiseql.observers.BackendHealth h;
    long start = System.nanoTime();
    try {
      h = main == null ? dev.fraiseql.observers.BackendHealth.unknown("no backend") : main.health();
      if (h == null) {
        h = dev.fraiseql.observers.BackendHealth.unknown("the backend returned no health");
      }
    } catch (RuntimeException e) {
      h = dev.fraiseql.observers.BackendHealth.down(e.toString(), java.util.Map.of());
    }
    java.util.Map<String, Object> details = new java.util.LinkedHashMap<>();
    details.put("backend", name);
    details.putAll(h.details());
    details.putIfAbsent("checkMs", (System.nanoTime() - start) / 1_000_000);
    return new dev.fraiseql.observers.BackendHealth(h.status(), details);
  }

  @Override
  public CloseReport shutdown(Duration timeout) {
    if (!closed.compareAndSet(false, true)) {
      CloseReport r = closeReport;
      return r != null ? r : new CloseReport(0, 0, List.of());
    }
    rt.closing = true;
    for (BusSubscription s : subscriptions) {
      try {
        s.close();
      } catch (RuntimeException e) {
        rt.log().warn("[observer] closing a subscription failed", e);
      }
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    while (gate.inFlight() > 0 && System.nanoTime() < deadline) {
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    rt.aborting = true;
    List<String> unfinished = new ArrayList<>();
    for (DeliveryTask t : rt.unfinishedTasks()) {
      unfinished.add(t.describe());
      t.deadLetter("shutdown: the engine closed before this delivery finished");
    }
    java.util.concurrent.ScheduledFuture<?> sweep = sweeper;
    if (sweep != null) {
      sweep.cancel(false);
    }
    CloseReport report = new CloseReport(rt.completedWhileClosing.get(), unfinished.size(), unfinished);
    closeReport = report;
    if (report.clean()) {
      rt.log().info("[observer] engine closed: {} in-flight deliveries finished, none left", report.completed());
    } else {
      rt.log().warn("[observer] engine closed: {} deliveries did not finish within {}ms and were dead-lettered "
          + "(replay them with deadLetters().replay): {}", report.deadLettered(), timeout.toMillis(), unfinished);
    }
    resources.closeAll();
    return report;
  }

  @Override
  public void close() {
    shutdown(config.shutdownTimeout());
  }

  /** The dead-letter queue view. */
  private final class DeadLettersView implements DeadLetters {
    @Override
    public String store() {
      return resources.deadLetterStoreName;
    }

    @Override
    public List<DeadLetter> list(DeadLetterQuery query) {
      List<DeadLetter> out = new ArrayList<>(rt.deadLetters.list(query));
      if (rt.fallbackDeadLetters.count() > 0) {
        out.addAll(rt.fallbackDeadLetters.list(query));
        out.sort((a, b) -> b.deadLetteredAt().compareTo(a.deadLetteredAt()));
        if (out.size() > query.limit()) {
          out = new ArrayList<>(out.subList(0, query.limit()));
        }
      }
      return out;
    }

    @Override
    public Optional<DeadLetter> get(String id) {
      Optional<DeadLetter> d = rt.deadLetters.get(id);
      return d.isPresent() ? d : rt.fallbackDeadLetters.get(id);
    }

    @Override
    public long count() {
      return rt.deadLetters.count() + rt.fallbackDeadLetters.count();
    }

    @Override
    public CompletionStage<DeliveryOutcome> replay(String id) {
      DeadLetter letter = get(id).orElseThrow(() -> new NoSuchElementException("no dead letter with id " + id));
      HandlerRuntime h = letter.subject().isPresent() ? subscriptionHandlers.get(letter.handler())
          : handlersByName.get(letter.handler());
      if (h == null) {
        throw new ObserverException("dead letter " + id + " is for handler `" + letter.handler()
            + "`, which this engine's configuration does not have (handlers: " + handlersByName.keySet()
            + (subscriptionHandlers.isEmpty() ? "" : ", subscription handlers: " + subscriptionHandlers.keySet()) + ")");
      }
      if (closed.get()) {
        throw new IllegalStateException("the observer engine is closed; cannot replay " + id);
      }
      rt.log().info("[observer] {}: replaying dead letter {} (event {})", h.name(), id, letter.event().id());
      gate.forceAcquire();
      DeliveryTask t = new DeliveryTask(rt, h, letter.event());
      t.start();
      return t.outcome().thenApply(o -> {
        rt.deadLetters.remove(id);
        rt.fallbackDeadLetters.remove(id);
        return o;
      }).minimalCompletionStage();
    }

    @Override
    public List<CompletionStage<DeliveryOutcome>> replay(Collection<String> ids) {
      List<CompletionStage<DeliveryOutcome>> out = new ArrayList<>(ids.size());
      for (String id : ids) {
        out.add(replay(id));
      }
      return out;
    }

    @Override
    public boolean discard(String id) {
      boolean a = rt.deadLetters.remove(id);
      boolean b = rt.fallbackDeadLetters.remove(id);
      return a || b;
    }

    @Override
    public int discard(DeadLetterQuery query) {
      int n = 0;
      for (DeadLetter d : list(query.limit(Integer.MAX_VALUE))) {
        if (discard(d.id())) {
          n++;
        }
      }
      return n;
    }
  }

  /** Creates and owns backends, stores, actions and threads; closes them in reverse. */
  static final class Resources {
    private final EngineSpec spec;
    private final Providers providers;
    private final Map<String, Backend> backends = new LinkedHashMap<>();
    private final List<Action> actions = new ArrayList<>();
    private ExecutorService ownedExecutor;
    private java.util.concurrent.ScheduledExecutorService ownedScheduler;
    private java.util.concurrent.ScheduledExecutorService scheduler;
    private Backend mainBackend;
    private Runtime runtime;
    String deadLetterStoreName = "memory";

    Resources(EngineSpec spec) {
      this.spec = spec;
      this.providers = new Providers(spec);
    }

    Runtime runtime(List<ConfigProblem> problems) {
      ObserversConfig cfg = spec.config();
      scheduler = spec.scheduler().orElseGet(() -> ownedScheduler = Threads.scheduler());
      // The host's executor gets one task per delivery step (its own sizing and threads decide);
      // the engine's own pool is fed through Threads.WORKERS drainers of one lock-free queue.
      Drainers drainers = spec.executor().isPresent() ? null
          : new Drainers(ownedExecutor = Threads.executor(), Threads.WORKERS, scheduler);
      java.util.concurrent.Executor executor = drainers == null ? spec.executor().get() : drainers::execute;
      mainBackend = backend(cfg.backend(), problems);
      if (!problems.isEmpty()) {
        throw new ObserverConfigException(cfg.source(), problems);
      }
      Stores stores = new Stores(spec, this, problems);
      deadLetterStoreName = stores.deadLetterStoreName;
      if (!problems.isEmpty()) {
        throw new ObserverConfigException(cfg.source(), problems);
      }
      runtime = new Runtime(executor, scheduler, spec.clock(), new Listeners(spec.listeners()), stores.deadLetters,
          stores.idempotency, cfg.checkpointStrategy(), cfg.claimTtl(), drainers);
      return runtime;
    }

    Backend mainBackend() {
      return mainBackend;
    }

    boolean hasBackendProvider(String name) {
      return providers.backend(name).isPresent();
    }

    /** Checks that backend {@code name} is on the classpath and that its table has no unknown key; creates nothing. */
    void checkBackend(String name, List<ConfigProblem> problems) {
      ObserversConfig cfg = spec.config();
      Optional<dev.fraiseql.observers.spi.BackendProvider> p = providers.backend(name);
      if (p.isEmpty()) {
        ConfigLocation at = cfg.backendSettings().location().file().equals("<code>")
            ? new ConfigLocation(cfg.source(), 0, 0, "[observers]") : cfg.backendSettings().location();
        problems.add(new ConfigProblem(at, "backend", "unknown backend `" + name + "`", providers.missingBackendHint(name)));
        return;
      }
      List<String> known = new ArrayList<>(p.get().settingKeys());
      known.addAll(List.of("nats_url", "redis_url", "database_url"));
      problems.addAll(cfg.backendSettings(name).unknownKeys(known));
    }

    /** Creates (once) the backend named {@code name}; null with a problem when it cannot. */
    Backend backend(String name, List<ConfigProblem> problems) {
      Backend existing = backends.get(name);
      if (existing != null) {
        return existing;
      }
      ObserversConfig cfg = spec.config();
      Optional<dev.fraiseql.observers.spi.BackendProvider> p = providers.backend(name);
      ConfigLocation at = cfg.backendSettings().location().file().equals("<code>")
          ? new ConfigLocation(cfg.source(), 0, 0, "[observers]") : cfg.backendSettings().location();
      if (p.isEmpty()) {
        problems.add(new ConfigProblem(at, "backend", "unknown backend `" + dev.fraiseql.observers.config.ConfigText.visible(name)
            + "`", providers.missingBackendHint(name)));
        return null;
      }
      List<String> known = new ArrayList<>(p.get().settingKeys());
      known.addAll(List.of("nats_url", "redis_url", "database_url"));
      Settings settings = cfg.backendSettings(name);
      problems.addAll(settings.unknownKeys(known));
      try {
        Backend b = p.get().create(new BackendContextImpl(spec, settings, scheduler));
        backends.put(name, b);
        return b;
      } catch (ObserverConfigException e) {
        problems.addAll(e.problems());
      } catch (RuntimeException e) {
        problems.add(new ConfigProblem(at, "backend", "backend `" + name + "` could not start: " + e.getMessage(),
            "check the backend's settings"));
      }
      return null;
    }

    EventBus lazyBus() {
      return new LazyBus(this);
    }

    Action action(String handlerName, String type, Settings settings, ConfigLocation at, EventBus bus,
        List<ConfigProblem> problems) {
      if ("handler".equals(type)) {
        Optional<String> name = settings.string("handler");
        List<ConfigProblem> extra = settings.unknownKeys(union(List.of("handler"), COMMON_HANDLER_KEYS));
        problems.addAll(extra);
        if (name.isEmpty()) {
          problems.add(new ConfigProblem(at, "handler", "action `handler` needs `handler = \"<name>\"`",
              "name a Java handler registered with ObserverEngine.builder().handler(name, ...)"));
          return null;
        }
        return javaHandler(name.get(), settings.location("handler"), problems);
      }
      Optional<ActionProvider> p = providers.action(type);
      if (p.isEmpty()) {
        if (spec.handlers().containsKey(type)) {
          return new JavaHandlerAction(type, spec.handlers().get(type));
        }
        problems.add(new ConfigProblem(at, "action", "unknown action `" + dev.fraiseql.observers.config.ConfigText.visible(type)
            + "`", providers.missingActionHint(type)));
        return null;
      }
      problems.addAll(settings.unknownKeys(union(p.get().settingKeys(), COMMON_HANDLER_KEYS)));
      try {
        Action a = p.get().create(new ActionContextImpl(spec, handlerName, settings, at, bus));
        actions.add(a);
        return a;
      } catch (ObserverConfigException e) {
        problems.addAll(e.problems());
      } catch (RuntimeException e) {
        problems.add(new ConfigProblem(at, "action", "action `" + type + "` of " + handlerName + " could not be created: "
            + e.getMessage(), "check the handler's settings"));
      }
      return null;
    }

    private Action javaHandler(String name, ConfigLocation at, List<ConfigProblem> problems) {
      if (!spec.handlers().containsKey(name)) {
        problems.add(new ConfigProblem(at, "handler", "no Java handler named `" + name + "` is registered",
            spec.handlers().isEmpty() ? "register it with ObserverEngine.builder().handler(\"" + name + "\", event -> ...)"
                : dev.fraiseql.observers.internal.DidYouMean.hint(name, spec.handlers().keySet())));
        return null;
      }
      return new JavaHandlerAction(name, spec.handlers().get(name));
    }

    /**
     * The keys a subscription may have besides those the loader reads: the engine's, the bus's and, when
     * an action runs it, that action's. Every other key is an error, as in every other section.
     */
    private List<ConfigProblem> unknownSubscriptionKeys(SubscriptionConfig sc, Collection<String> actionKeys) {
      List<String> known = new ArrayList<>(SUBSCRIPTION_KEYS);
      providers.backend(spec.config().backend()).ifPresent(p -> known.addAll(p.subscriptionKeys()));
      known.addAll(actionKeys);
      return sc.settings().unknownKeys(known);
    }

    Action subscriptionAction(SubscriptionConfig sc, EventBus bus, List<ConfigProblem> problems) {
      Optional<String> forced;
      try {
        forced = sc.settings().string("action");
        sc.settings().millis("ack_wait_ms", SubscriptionSpec.DEFAULT_ACK_WAIT);
        sc.settings().intValue("max_in_flight", SubscriptionSpec.DEFAULT_MAX_IN_FLIGHT, 1, 100_000);
      } catch (ObserverConfigException e) {
        problems.addAll(e.problems());
        return null;
      }
      if (forced.isEmpty() || forced.get().equals("handler")) {
        if (spec.handlers().containsKey(sc.handler())) {
          problems.addAll(unknownSubscriptionKeys(sc, List.of()));
          return new JavaHandlerAction(sc.handler(), spec.handlers().get(sc.handler()));
        }
        if (forced.isPresent()) {
          problems.addAll(unknownSubscriptionKeys(sc, List.of()));
          return javaHandler(sc.handler(), sc.location(), problems);
        }
      }
      String type = forced.orElse("sql");
      Optional<ActionProvider> p = providers.action(type);
      if (p.isPresent()) {
        problems.addAll(unknownSubscriptionKeys(sc, p.get().settingKeys()));
      }
      if (p.isEmpty()) {
        problems.add(new ConfigProblem(sc.location(), "handler", "no handler named `" + sc.handler() + "` for subscription "
            + sc.subject(), "register a Java handler with ObserverEngine.builder().handler(\"" + sc.handler()
            + "\", event -> ...), or add dev.fraiseql:fraiseql-observers-pg to call a SQL function of that name"));
        return null;
      }
      Settings.Builder b = sc.settings().without("action").without("ack_wait_ms").without("max_in_flight").toBuilder();
      if ("sql".equals(type) && !sc.settings().has("function")) {
        b.put("function", sc.handler(), sc.location());
      }
      Settings settings = b.build();
      try {
        Action a = p.get().create(new ActionContextImpl(spec, sc.handler(), settings, sc.location(), bus));
        actions.add(a);
        return a;
      } catch (ObserverConfigException e) {
        problems.addAll(e.problems());
      } catch (RuntimeException e) {
        problems.add(new ConfigProblem(sc.location(), "handler", "handler `" + sc.handler() + "` could not be created: "
            + e.getMessage(), "check the subscription's settings"));
      }
      return null;
    }

    private static List<String> union(Collection<String> a, Collection<String> b) {
      List<String> out = new ArrayList<>(a);
      out.addAll(b);
      return out;
    }

    void closeAll() {
      for (Action a : actions) {
        try {
          a.close();
        } catch (RuntimeException e) {
          org.slf4j.LoggerFactory.getLogger(DefaultObserverEngine.class).warn("[observer] closing an action failed", e);
        }
      }
      List<Backend> all = new ArrayList<>(backends.values());
      java.util.Collections.reverse(all);
      for (Backend b : all) {
        try {
          b.close();
        } catch (RuntimeException e) {
          org.slf4j.LoggerFactory.getLogger(DefaultObserverEngine.class).warn("[observer] closing a backend failed", e);
        }
      }
      if (ownedScheduler != null) {
        ownedScheduler.shutdownNow();
      }
      if (ownedExecutor != null) {
        ownedExecutor.shutdown();
        try {
          if (!ownedExecutor.awaitTermination(2, TimeUnit.SECONDS)) {
            ownedExecutor.shutdownNow();
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          ownedExecutor.shutdownNow();
        }
      }
    }
  }

  /** Resolves the main backend's bus on first use, so backends connect lazily. */
  private static final class LazyBus implements EventBus {
    private final Resources res;
    private volatile EventBus bus;

    LazyBus(Resources res) {
      this.res = res;
    }

    private EventBus bus() {
      EventBus b = bus;
      if (b == null) {
        synchronized (this) {
          b = bus;
          if (b == null) {
            Backend main = res.mainBackend();
            if (main == null) {
              throw new IllegalStateException("no backend is configured");
            }
            b = main.bus();
            bus = b;
          }
        }
      }
      return b;
    }

    @Override
    public String name() {
      return res.spec.config().backend();
    }

    @Override
    public CompletionStage<dev.fraiseql.observers.spi.PublishAck> publish(dev.fraiseql.observers.spi.OutboundMessage message) {
      try {
        return bus().publish(message);
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
    }

    @Override
    public CompletionStage<dev.fraiseql.observers.spi.PublishAck> publish(dev.fraiseql.observers.spi.OutboundMessage message,
        dev.fraiseql.observers.spi.Delivery attempt) {
      try {
        return bus().publish(message, attempt);
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(e);
      }
    }

    @Override
    public BusSubscription subscribe(SubscriptionSpec spec, dev.fraiseql.observers.spi.InboundHandler handler) {
      return bus().subscribe(spec, handler);
    }
  }

  /** What action and backend providers both see: the config, the environment, the host's components. */
  private abstract static class ProviderContext {
    final EngineSpec spec;

    ProviderContext(EngineSpec spec) {
      this.spec = spec;
    }

    public ObserversConfig config() {
      return spec.config();
    }

    public Function<String, Optional<String>> env() {
      return spec.env();
    }

    public <T> Optional<T> component(Class<T> type) {
      return Components.find(spec, type);
    }
  }

  /** What an action provider sees. */
  private static final class ActionContextImpl extends ProviderContext implements ActionContext {
    private final String handlerName;
    private final Settings settings;
    private final ConfigLocation location;
    private final EventBus bus;

    ActionContextImpl(EngineSpec spec, String handlerName, Settings settings, ConfigLocation location, EventBus bus) {
      super(spec);
      this.handlerName = handlerName;
      this.settings = settings;
      this.location = location;
      this.bus = bus;
    }

    @Override
    public String handlerName() {
      return handlerName;
    }

    @Override
    public Settings settings() {
      return settings;
    }

    @Override
    public ConfigLocation location() {
      return location;
    }

    @Override
    public EventBus bus() {
      return bus;
    }
  }

  /** What a backend provider sees. */
  private static final class BackendContextImpl extends ProviderContext implements dev.fraiseql.observers.spi.BackendContext {
    private final Settings settings;
    private final java.util.concurrent.ScheduledExecutorService scheduler;

    BackendContextImpl(EngineSpec spec, Settings settings, java.util.concurrent.ScheduledExecutorService scheduler) {
      super(spec);
      this.settings = settings;
      this.scheduler = scheduler;
    }

    @Override
    public Settings settings() {
      return settings;
    }

    @Override
    public java.util.concurrent.ScheduledExecutorService scheduler() {
      return scheduler;
    }
  }

  /** Host components by type; the engine's clock is always available as {@link Clock}. */
  static final class Components {
    private Components() {}

    static <T> Optional<T> find(EngineSpec spec, Class<T> type) {
      Object exact = spec.components().get(type);
      if (exact != null) {
        return Optional.of(type.cast(exact));
      }
      for (Map.Entry<Class<?>, Object> e : spec.components().entrySet()) {
        if (type.isInstance(e.getValue())) {
          return Optional.of(type.cast(e.getValue()));
        }
      }
      if (type == Clock.class) {
        return Optional.of(type.cast(spec.clock()));
      }
      return Optional.empty();
    }
  }
}
