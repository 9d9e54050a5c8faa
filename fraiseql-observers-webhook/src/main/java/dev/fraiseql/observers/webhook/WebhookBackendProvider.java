package dev.fraiseql.observers.webhook;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.config.ConfigProblem;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.internal.memory.InMemoryBackend;
import dev.fraiseql.observers.spi.Backend;
import dev.fraiseql.observers.spi.BackendContext;
import dev.fraiseql.observers.spi.BackendProvider;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * {@code [observers] backend = "webhook"}, for teams without a message bus (seed 000): events leave
 * the process only through webhook (and Slack) actions. The backend itself is the in-memory one: its
 * bus works inside this process only (a rule with a {@code subject} publishes to in-process
 * subscribers, nothing crosses to other services), dead letters are kept in memory (bounded by
 * {@code dead_letter_capacity}) and nothing is durable across restarts.
 *
 * <p>Its table {@code [observers.webhook]} accepts one key, {@code egress = "default" | "strict"}:
 * the egress policy of every webhook and Slack handler that does not set its own.
 */
public final class WebhookBackendProvider implements BackendProvider {
  /** The backend name. */
  public static final String NAME = "webhook";
  /** The default egress mode of every handler, in {@code [observers.webhook]}. */
  public static final String EGRESS = "egress";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String artifact() {
    return "dev.fraiseql:fraiseql-observers-webhook";
  }

  @Override
  public Set<String> settingKeys() {
    return Set.of(EGRESS);
  }

  @Override
  public Backend create(BackendContext context) {
    Settings s = context.settings();
    // The engine reports unknown keys itself (against settingKeys() plus the [observers] server URLs).
    List<ConfigProblem> problems = new ArrayList<>();
    Optional<String> egress = s.string(EGRESS);
    if (egress.isPresent()) {
      String e = egress.get().trim().toLowerCase(Locale.ROOT);
      if (!e.equals("default") && !e.equals("strict")) {
        problems.add(new ConfigProblem(s.location(EGRESS), EGRESS, "[observers.webhook] egress is `" + egress.get() + "`",
            "use \"default\" or \"strict\""));
      }
    }
    if (!problems.isEmpty()) {
      throw new ObserverConfigException(context.config().source(), problems);
    }
    return new InMemoryBackend(context.scheduler(), context.config().deadLetterCapacity(),
        context.component(Clock.class).orElse(Clock.systemUTC()));
  }
}
