package dev.fraiseql.observers.spi;

import java.util.Set;

/**
 * Creates a {@link Backend}, chosen by {@code [observers] backend = "<name>"}. Found with
 * {@link java.util.ServiceLoader} ({@code META-INF/services/dev.fraiseql.observers.spi.BackendProvider})
 * or handed to the builder. The in-memory backend is built in.
 */
public interface BackendProvider {

  /** {@code nats}, {@code redis}, {@code postgres}... */
  String name();

  /** The Maven artifact that provides it, named when the backend is missing. */
  default String artifact() {
    return "";
  }

  /** The keys the backend reads from its settings; others are reported with a "did you mean". */
  Set<String> settingKeys();

  /**
   * The keys a subscription ({@code [[observers.subscribe]]}) may carry for this backend's bus, such as
   * NATS's {@code deliver_policy}; with the engine's own ({@code action}, {@code ack_wait_ms},
   * {@code max_in_flight}) and its handler's, any other key is reported with a "did you mean".
   */
  default Set<String> subscriptionKeys() {
    return Set.of();
  }

  /** @throws dev.fraiseql.observers.ObserverConfigException naming the key when settings are wrong */
  Backend create(BackendContext context);
}
