package dev.fraiseql.observers.internal.engine;

import dev.fraiseql.observers.ObserverHandler;
import dev.fraiseql.observers.ObserverListener;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.spi.ActionProvider;
import dev.fraiseql.observers.spi.BackendProvider;
import dev.fraiseql.observers.spi.DeadLetterStore;
import dev.fraiseql.observers.spi.IdempotencyStore;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;

/** Everything the builder collected. */
public record EngineSpec(ObserversConfig config, Function<String, Optional<String>> env,
    Map<String, ObserverHandler> handlers, List<ActionProvider> actions, List<BackendProvider> backends,
    List<ObserverListener> listeners, Map<Class<?>, Object> components, Optional<DeadLetterStore> deadLetterStore,
    Optional<IdempotencyStore> idempotencyStore, Optional<Executor> executor,
    Optional<ScheduledExecutorService> scheduler, Clock clock,
    boolean openSubscriptions) {}
