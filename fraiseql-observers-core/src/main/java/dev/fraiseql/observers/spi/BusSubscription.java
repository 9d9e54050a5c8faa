package dev.fraiseql.observers.spi;

/** An open subscription. {@link #close()} stops fetching; messages being handled finish first. */
public interface BusSubscription extends AutoCloseable {
  @Override
  void close();
}
