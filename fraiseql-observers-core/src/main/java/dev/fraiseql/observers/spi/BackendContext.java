package dev.fraiseql.observers.spi;

import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.Settings;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;

/** What a {@link BackendProvider} is given. */
public interface BackendContext {

  /** The whole configuration (idempotency table name, claim TTL, dead-letter capacity...). */
  ObserversConfig config();

  /**
   * The backend's own settings: {@code nats_url} / {@code redis_url} / {@code database_url} from
   * {@code [observers]} and the keys of its table ({@code [observers.nats]}...), with locations.
   */
  Settings settings();

  Function<String, Optional<String>> env();

  /** A component the host registered with the builder (a {@code javax.sql.DataSource}, a jnats {@code Options}). */
  <T> Optional<T> component(Class<T> type);

  /** The engine's scheduler, for timers (reconnects, polling). Do not block in it. */
  ScheduledExecutorService scheduler();
}
