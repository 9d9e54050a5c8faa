package dev.fraiseql.observers.internal.engine;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.config.ConfigProblem;
import dev.fraiseql.observers.internal.memory.Subjects;
import dev.fraiseql.observers.spi.Action;
import dev.fraiseql.observers.spi.ActionContext;
import dev.fraiseql.observers.spi.ActionProvider;
import dev.fraiseql.observers.spi.ActionResult;
import dev.fraiseql.observers.spi.Delivery;
import dev.fraiseql.observers.spi.EventBus;
import dev.fraiseql.observers.spi.OutboundMessage;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * {@code action = "publish"} (and every seed-000 rule with a {@code subject}): publishes the event to
 * {@code subject} on the configured bus; delivered when the bus acknowledges it.
 */
public final class PublishActionProvider implements ActionProvider {
  public static final String NAME = "publish";

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
    return Set.of("subject");
  }

  @Override
  public Action create(ActionContext context) {
    String subject = context.settings().requireString("subject",
        "add subject = \"fraiseql.<entity>.<verb>\" to say where to publish");
    String error = Subjects.validate(subject);
    if (error == null && Subjects.isWildcard(subject)) {
      error = "cannot publish to wildcard subject `" + subject + "`";
    }
    if (error != null) {
      throw new ObserverConfigException(new ConfigProblem(context.settings().location("subject"), "subject", error,
          "use a concrete subject such as fraiseql.order.created"));
    }
    return new PublishAction(subject, context.bus());
  }

  private static final class PublishAction implements Action {
    private final String subject;
    private final EventBus bus;

    PublishAction(String subject, EventBus bus) {
      this.subject = subject;
      this.bus = bus;
    }

    @Override
    public CompletionStage<ActionResult> execute(Delivery delivery) {
      return bus.publish(OutboundMessage.forEvent(subject, traced(delivery)), delivery)
          .thenApply(ack -> ack.duplicate()
              ? ActionResult.duplicate("duplicate, stored once" + (ack.position().isEmpty() ? "" : " at " + ack.position()))
              : ActionResult.delivered("stored" + (ack.position().isEmpty() ? "" : " at " + ack.position())));
    }

    /**
     * The event to publish: with the attempt's {@code traceparent} in its context when it differs from
     * the event's (tracing on: the subscriber's span becomes the publish attempt's child), else as is.
     */
    private static dev.fraiseql.observers.ObservedEvent traced(Delivery delivery) {
      dev.fraiseql.observers.ObservedEvent e = delivery.event();
      java.util.Optional<String> tp = delivery.traceparent();
      if (tp.isEmpty() || tp.equals(e.context().traceparent())) {
        return e;
      }
      return e.toBuilder().context(e.context().toBuilder()
          .attribute(dev.fraiseql.observers.MutationContext.TRACEPARENT, tp.get()).build()).build();
    }

    @Override
    public String describe() {
      return "publish to " + subject + " on " + bus.name();
    }

    @Override
    public java.util.Optional<dev.fraiseql.observers.spi.ActionPreview> preview(Delivery delivery) {
      OutboundMessage m = OutboundMessage.forEvent(subject, delivery.event());
      java.util.Map<String, String> headers = new java.util.LinkedHashMap<>(m.headers());
      headers.put("(de-duplication id)", m.deduplicationId());
      return java.util.Optional.of(new dev.fraiseql.observers.spi.ActionPreview(describe(), headers,
          new String(m.payload(), java.nio.charset.StandardCharsets.UTF_8)));
    }
  }
}
