package dev.fraiseql.observers;

/** Base of every exception this library throws. Unchecked. */
public class ObserverException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ObserverException(String message) {
    super(message);
  }

  public ObserverException(String message, Throwable cause) {
    super(message, cause);
  }
}
