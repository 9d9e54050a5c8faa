package dev.fraiseql.observers.nats;

import dev.fraiseql.observers.nats.internal.NatsBackend;
import dev.fraiseql.observers.nats.internal.NatsSettings;
import dev.fraiseql.observers.nats.internal.RetryHorizon;
import dev.fraiseql.observers.spi.Backend;
import dev.fraiseql.observers.spi.BackendContext;
import dev.fraiseql.observers.spi.BackendProvider;
import io.nats.client.Options;
import java.util.Set;

/**
 * The {@code nats} backend: {@code [observers] backend = "nats"} publishes to and subscribes from
 * NATS JetStream. Registered for {@link java.util.ServiceLoader}; a host may also hand an instance to
 * {@code ObserverEngine.builder()}.
 *
 * <p>Settings: {@code nats_url} in {@code [observers]} and the keys of {@code [observers.nats]}
 * ({@code stream}, {@code subjects}, {@code auto_create_stream}, {@code storage},
 * {@code duplicate_window_ms}, retention limits, credentials, TLS, publish window and timeouts; see the
 * module README). A host that needs more control over the connection registers a jnats
 * {@link Options} component with the builder; it is then used as given (servers, auth, TLS,
 * reconnects), with a connection listener added for logging and recovery.
 */
public final class NatsBackendProvider implements BackendProvider {

  /** Creates the provider (ServiceLoader needs a public no-argument constructor). */
  public NatsBackendProvider() {}

  @Override
  public String name() {
    return "nats";
  }

  @Override
  public String artifact() {
    return "dev.fraiseql:fraiseql-observers-nats";
  }

  @Override
  public Set<String> settingKeys() {
    return NatsSettings.KEYS;
  }

  /** {@code deliver_policy} (all, new, last): where a new durable consumer starts. */
  @Override
  public Set<String> subscriptionKeys() {
    return Set.of("deliver_policy");
  }

  @Override
  public Backend create(BackendContext context) {
    NatsSettings settings = NatsSettings.parse(context.settings(), context.env());
    RetryHorizon.warnIfLongerThanDuplicateWindow(context.config(), settings);
    return new NatsBackend(settings, context.component(Options.class));
  }
}
