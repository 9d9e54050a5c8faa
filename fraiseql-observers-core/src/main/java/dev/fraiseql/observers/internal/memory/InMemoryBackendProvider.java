package dev.fraiseql.observers.internal.memory;

import dev.fraiseql.observers.spi.Backend;
import dev.fraiseql.observers.spi.BackendContext;
import dev.fraiseql.observers.spi.BackendProvider;
import java.time.Clock;
import java.util.Set;

/** {@code backend = "in-memory"}: everything in process, nothing durable. Built into core. */
public final class InMemoryBackendProvider implements BackendProvider {
  public static final String NAME = "in-memory";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String artifact() {
    return "dev.fraiseql:fraiseql-observers-core";
  }

  @Override
  public Set<String> settingKeys() {
    return Set.of();
  }

  @Override
  public Backend create(BackendContext context) {
    return new InMemoryBackend(context.scheduler(), context.config().deadLetterCapacity(),
        context.component(Clock.class).orElse(Clock.systemUTC()));
  }
}
