package dev.fraiseql.observers.spi;

import dev.fraiseql.observers.config.ConfigLocation;
import dev.fraiseql.observers.config.Settings;
import java.util.Optional;
import java.util.function.Function;

/**
 * What an {@link ActionProvider} is given to create a handler's {@link Action}.
 */
public interface ActionContext {

  /** The handler's name, for logs. */
  String handlerName();

  /** The action's own keys ({@code webhook_url}, {@code subject}, ...), with their locations. */
  Settings settings();

  /** Where the handler was defined, for error messages. */
  ConfigLocation location();

  /** The whole configuration ({@code [observers] database_url}, the checkpoint strategy...). */
  dev.fraiseql.observers.config.ObserversConfig config();

  /** The engine's event bus (for actions that publish). */
  EventBus bus();

  /** Environment lookup (the one the config was loaded with), for secrets named by {@code *_env} keys. */
  Function<String, Optional<String>> env();

  /** A component the host registered with {@code ObserverEngine.Builder.component(...)}, such as a DataSource. */
  <T> Optional<T> component(Class<T> type);
}
