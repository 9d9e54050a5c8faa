package dev.fraiseql.observers;

/**
 * {@code onCommit} found {@code max_in_flight} deliveries pending and {@code overflow_policy = "reject"}
 * (or {@code block} ran out of time before any room freed and the event could not be dead-lettered).
 * Nothing was dispatched for the event; the host still owns it.
 */
public class ObserverOverloadedException extends ObserverException {
  private static final long serialVersionUID = 1L;

  public ObserverOverloadedException(String message) {
    super(message);
  }
}
