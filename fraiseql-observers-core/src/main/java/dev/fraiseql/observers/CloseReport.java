package dev.fraiseql.observers;

import java.util.List;

/**
 * What {@link ObserverEngine#shutdown(java.time.Duration)} could and could not finish.
 *
 * @param completed deliveries that ended while the engine was closing
 * @param deadLettered deliveries still pending at the deadline: dead-lettered with reason
 *     {@code shutdown}, never silently dropped (replay them after a restart)
 * @param unfinished one line per dead-lettered delivery ({@code welcome-email ← user.created 0193...})
 */
public record CloseReport(long completed, long deadLettered, List<String> unfinished) {
  public CloseReport {
    unfinished = List.copyOf(unfinished);
  }

  public boolean clean() {
    return deadLettered == 0;
  }
}
