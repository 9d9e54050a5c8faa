package dev.fraiseql.observers;

import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.spi.ActionPreview;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A configuration checked as {@link ObserverEngine.Builder#build()} checks it — every action created,
 * every condition compiled — with nothing started: no backend connected, no store opened, no
 * subscription made, nothing sent. {@link #explain(ObservedEvent)} tells which handlers an event
 * would fire and what each would send. Made by {@link ObserverEngine.Builder#dryRun()}; what the
 * command line's {@code explain} shows.
 *
 * <pre>{@code
 * try (DryRun plan = ObserverEngine.builder().config(Path.of("fraiseql.toml")).dryRun()) {
 *   for (DryRun.Match m : plan.explain(event)) {
 *     System.out.println(m.handler().name() + (m.conditionHolds() ? " fires" : " skipped"));
 *     m.preview().ifPresent(p -> System.out.println(p.target() + "\n" + p.body()));
 *   }
 * }
 * }</pre>
 */
public interface DryRun extends AutoCloseable {

  /** The configuration checked. */
  ObserversConfig config();

  /** Every handler, in definition order, with what its action does ({@code webhook to https://svc/hooks}). */
  List<Handler> handlers();

  /**
   * The handlers whose trigger matches {@code event}, in definition order (the order they would
   * start in), each with whether its condition holds and, when it does, what its action would send.
   * Sends nothing.
   */
  List<Match> explain(ObservedEvent event);

  /** Releases the actions' clients. */
  @Override
  void close();

  /**
   * One handler of the configuration.
   *
   * @param config its configuration
   * @param action what its action does, as in log lines; never a secret
   */
  record Handler(HandlerConfig config, String action) {}

  /**
   * One handler matched by an event's trigger.
   *
   * @param handler the handler's configuration
   * @param conditionHolds false when its {@code condition} rules the event out (the handler would be skipped)
   * @param action what the action does, as in log lines ({@code webhook to https://svc/hooks})
   * @param preview what it would send; empty when skipped, or when the action cannot tell (a Java handler)
   * @param previewError why no preview could be made (a template that fails on this event), if so
   */
  record Match(HandlerConfig handler, boolean conditionHolds, String action, Optional<ActionPreview> preview,
      Optional<String> previewError) {
    public Match {
      Objects.requireNonNull(handler, "handler");
      Objects.requireNonNull(action, "action");
      preview = preview == null ? Optional.empty() : preview;
      previewError = previewError == null ? Optional.empty() : previewError;
    }
  }
}
