package dev.fraiseql.observers;

import java.util.List;
import java.util.Optional;

/**
 * What {@link Dispatch#awaitSynchronous()} found: the outcomes of the {@code synchronous = true}
 * handlers that finished in time, and one warning per synchronous handler that failed or did not
 * finish. The write is already committed, so a warning never means the mutation failed (seed 001:
 * "the mutation still succeeds, but the response includes a warning header"). See
 * {@link ObserverWarnings} to turn it into that header.
 *
 * @param outcomes outcomes of synchronous handlers that finished
 * @param warnings e.g. {@code create-stripe-customer: timed out after 5000ms (still running)},
 *     {@code create-stripe-customer: dead-lettered after 3 attempts: HTTP 503}
 */
public record SynchronousResult(List<DeliveryOutcome> outcomes, List<String> warnings) {
  public SynchronousResult {
    outcomes = List.copyOf(outcomes);
    warnings = List.copyOf(warnings);
  }

  public boolean hasWarnings() {
    return !warnings.isEmpty();
  }

  /** The warnings joined for one header value, or empty when there are none. */
  public Optional<String> headerValue() {
    return warnings.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", warnings));
  }
}
