package dev.fraiseql.observers.webhook;

import dev.fraiseql.observers.spi.Action;
import dev.fraiseql.observers.spi.ActionContext;
import dev.fraiseql.observers.spi.ActionProvider;
import dev.fraiseql.observers.webhook.internal.SlackAction;
import java.util.Set;

/**
 * {@code action = "slack"}: posts a message built from the {@code text} template to a Slack
 * incoming-webhook URL, with the webhook action's retry rules and egress policy.
 */
public final class SlackActionProvider implements ActionProvider {
  /** The action type. */
  public static final String NAME = "slack";

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
    return SlackAction.KEYS;
  }

  @Override
  public Action create(ActionContext context) {
    return SlackAction.create(context);
  }
}
