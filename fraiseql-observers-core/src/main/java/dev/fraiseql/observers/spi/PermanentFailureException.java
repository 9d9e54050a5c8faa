package dev.fraiseql.observers.spi;

import dev.fraiseql.observers.ObserverException;

/**
 * Thrown by an action (or a host handler) when retrying cannot help: the delivery goes straight to
 * the dead letters. Any other exception counts as retryable.
 */
public class PermanentFailureException extends ObserverException {
  private static final long serialVersionUID = 1L;

  public PermanentFailureException(String message) {
    super(message);
  }

  public PermanentFailureException(String message, Throwable cause) {
    super(message, cause);
  }
}
