package dev.fraiseql.observers.spi;

import java.util.OptionalLong;

/** An open subscription. {@link #close()} stops fetching; messages being handled finish first. */
public interface BusSubscription extends AutoCloseable {
  @Override
  void close();

  /**
   * How far this subscription is behind: the messages on its subject it has not finished yet, that is
   * published and not yet delivered to it plus delivered and not yet acknowledged. Empty when the bus
   * cannot tell (the default) or cannot be asked right now (unreachable, the subscription not yet
   * established). It may cost a round trip to the server: call it sparingly (the Micrometer binder
   * reads it at most once per second per subscription), never per message.
   */
  default OptionalLong lag() {
    return OptionalLong.empty();
  }
}
