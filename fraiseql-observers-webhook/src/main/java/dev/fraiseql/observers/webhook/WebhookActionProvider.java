package dev.fraiseql.observers.webhook;

import dev.fraiseql.observers.spi.Action;
import dev.fraiseql.observers.spi.ActionContext;
import dev.fraiseql.observers.spi.ActionProvider;
import dev.fraiseql.observers.webhook.internal.WebhookAction;
import java.util.Set;

/**
 * {@code action = "webhook"} (and {@code type = "webhook"} in a rule's {@code [[observers.actions]]}):
 * an HTTP request per attempt with the event's JSON or a Mustache {@code body_template}, optional
 * Standard Webhooks or FraiseQL signatures, an egress policy and bounded concurrency. See the module
 * README for every key and its default.
 */
public final class WebhookActionProvider implements ActionProvider {
  /** The action type. */
  public static final String NAME = "webhook";

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
    return WebhookAction.KEYS;
  }

  @Override
  public Action create(ActionContext context) {
    return WebhookAction.create(context);
  }
}
