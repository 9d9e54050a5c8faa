package dev.fraiseql.observers.redis.internal;

/** A Redis command of the bus or a store failed; the message names the key and the server, never credentials. */
public final class RedisBusException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public RedisBusException(String message, Throwable cause) {
    super(message, cause);
  }
}
