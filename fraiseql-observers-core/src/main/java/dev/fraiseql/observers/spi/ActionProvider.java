package dev.fraiseql.observers.spi;

import java.util.Set;

/**
 * Creates {@link Action}s of one type, chosen by {@code action = "<name>"} on a handler or
 * {@code type = "<name>"} in a rule's {@code [[observers.actions]]}. Found with {@link java.util.ServiceLoader}
 * (register in {@code META-INF/services/dev.fraiseql.observers.spi.ActionProvider}) or handed to the
 * engine builder.
 */
public interface ActionProvider {

  /** The action type: {@code webhook}, {@code slack}, {@code publish}, {@code sql}... */
  String name();

  /** The Maven artifact that provides it, named when the type is missing ({@code dev.fraiseql:fraiseql-observers-webhook}). */
  default String artifact() {
    return "";
  }

  /** The keys this action reads from a handler's settings; any other key is reported with a "did you mean". */
  Set<String> settingKeys();

  /**
   * Creates the action for one handler.
   *
   * @throws dev.fraiseql.observers.ObserverConfigException when the settings are wrong (name the key and location)
   */
  Action create(ActionContext context);
}
