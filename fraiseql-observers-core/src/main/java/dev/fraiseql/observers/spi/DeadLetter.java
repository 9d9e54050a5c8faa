package dev.fraiseql.observers.spi;

import dev.fraiseql.observers.ObservedEvent;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A delivery that ran out of budget or failed permanently.
 *
 * @param id the dead letter's own id
 * @param event the event
 * @param handler the handler that could not take it (a handler's name, or a subscription's handler)
 * @param subject for a subscription's dead letter, the subject the message came on; empty for handlers
 * @param reason why it was dead-lettered ({@code budget spent after 3 attempts}, {@code permanent: HTTP 400})
 * @param attempts every attempt made, in order
 * @param deadLetteredAt when
 */
public record DeadLetter(String id, ObservedEvent event, String handler, Optional<String> subject, String reason,
    List<AttemptRecord> attempts, Instant deadLetteredAt) {

  public DeadLetter {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(event, "event");
    Objects.requireNonNull(handler, "handler");
    subject = subject == null ? Optional.empty() : subject;
    reason = reason == null ? "" : reason;
    attempts = List.copyOf(attempts);
    Objects.requireNonNull(deadLetteredAt, "deadLetteredAt");
  }

  /** The last attempt's outcome, or the reason when no attempt was made. */
  public String lastError() {
    return attempts.isEmpty() ? reason : attempts.get(attempts.size() - 1).outcome();
  }

  @Override
  public String toString() {
    return "DeadLetter{" + id + " " + event + " → " + handler + ": " + reason + ", " + attempts.size() + " attempts}";
  }
}
