package dev.fraiseql.observers.graphqlws;

/**
 * What happens when a subscription's buffer ({@code buffer_size} events not yet written to the
 * socket) is full because its client reads more slowly than events arrive. Either way the engine and
 * the other clients never wait for it.
 */
public enum SlowClientPolicy {
  /**
   * Drop the oldest buffered event of that subscription and keep the newest (the default: a live view
   * wants the latest state). Each drop is counted in {@link GraphQLWsStats#droppedSlowClient()}.
   */
  DROP_OLDEST,
  /**
   * Close the socket with {@code 4413} ({@code Slow consumer: ...}); the client may reconnect and
   * subscribe again. Counted in {@link GraphQLWsStats#closedSlowClient()}.
   */
  CLOSE;

  /** {@code drop_oldest} or {@code close}. */
  public String configName() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
