package dev.fraiseql.observers.email;

import dev.fraiseql.observers.email.internal.EmailAction;
import dev.fraiseql.observers.spi.Action;
import dev.fraiseql.observers.spi.ActionContext;
import dev.fraiseql.observers.spi.ActionProvider;
import java.util.Set;

/**
 * {@code action = "email"} (and {@code type = "email"} in a rule's {@code [[observers.actions]]}): one
 * SMTP message per delivery, its {@code to}, {@code cc}, {@code bcc}, {@code from}, {@code reply_to},
 * {@code subject}, {@code text} and {@code html} rendered from Mustache templates over the event. SMTP
 * 4xx replies and connection errors are retried, 5xx replies are permanent. See the module README for
 * every key and its default.
 */
public final class EmailActionProvider implements ActionProvider {
  /** The action type. */
  public static final String NAME = "email";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String artifact() {
    return "dev.fraiseql:fraiseql-observers-email";
  }

  @Override
  public Set<String> settingKeys() {
    return EmailAction.KEYS;
  }

  @Override
  public Action create(ActionContext context) {
    return EmailAction.create(context);
  }
}
