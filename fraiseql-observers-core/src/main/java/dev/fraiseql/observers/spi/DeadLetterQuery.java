package dev.fraiseql.observers.spi;

import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

/**
 * Filters for listing dead letters: by handler, by time, by error text; newest first, at most
 * {@code limit}. {@code DeadLetterQuery.all().handler("welcome-email").limit(50)}.
 */
public record DeadLetterQuery(Optional<String> handler, Optional<Instant> since, Optional<Instant> until,
    Optional<String> errorContains, int limit) {

  public static final int DEFAULT_LIMIT = 100;

  public DeadLetterQuery {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be at least 1");
    }
  }

  public static DeadLetterQuery all() {
    return new DeadLetterQuery(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(), DEFAULT_LIMIT);
  }

  public DeadLetterQuery handler(String name) {
    return new DeadLetterQuery(Optional.of(name), since, until, errorContains, limit);
  }

  public DeadLetterQuery since(Instant t) {
    return new DeadLetterQuery(handler, Optional.of(t), until, errorContains, limit);
  }

  public DeadLetterQuery until(Instant t) {
    return new DeadLetterQuery(handler, since, Optional.of(t), errorContains, limit);
  }

  /** Case-insensitive match on the reason or any attempt's outcome. */
  public DeadLetterQuery errorContains(String text) {
    return new DeadLetterQuery(handler, since, until, Optional.of(text), limit);
  }

  public DeadLetterQuery limit(int max) {
    return new DeadLetterQuery(handler, since, until, errorContains, max);
  }

  /** Whether {@code d} passes the filters (stores that filter in memory use this). */
  public boolean matches(DeadLetter d) {
    if (handler.isPresent() && !handler.get().equals(d.handler())) {
      return false;
    }
    if (since.isPresent() && d.deadLetteredAt().isBefore(since.get())) {
      return false;
    }
    if (until.isPresent() && d.deadLetteredAt().isAfter(until.get())) {
      return false;
    }
    if (errorContains.isPresent()) {
      String needle = errorContains.get().toLowerCase(Locale.ROOT);
      boolean hit = d.reason().toLowerCase(Locale.ROOT).contains(needle)
          || d.attempts().stream().anyMatch(a -> a.outcome().toLowerCase(Locale.ROOT).contains(needle));
      if (!hit) {
        return false;
      }
    }
    return true;
  }
}
