package dev.fraiseql.observers.webhook.internal;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/** Parses an HTTP {@code Retry-After} header: delay-seconds or an HTTP-date (RFC 9110 §10.2.3). */
final class RetryAfter {
  /** Longer requests are capped here; the dispatcher caps them again at the handler's {@code max_delay_ms}. */
  static final Duration MAX = Duration.ofDays(1);

  private RetryAfter() {}

  static Optional<Duration> parse(String value, Instant now) {
    if (value == null) {
      return Optional.empty();
    }
    String v = value.trim();
    if (v.isEmpty()) {
      return Optional.empty();
    }
    if (v.chars().allMatch(Character::isDigit)) {
      if (v.length() > 9) {
        return Optional.of(MAX);
      }
      Duration d = Duration.ofSeconds(Long.parseLong(v));
      return Optional.of(d.compareTo(MAX) > 0 ? MAX : d);
    }
    try {
      Instant at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
      Duration d = Duration.between(now, at);
      if (d.isNegative()) {
        return Optional.of(Duration.ZERO);
      }
      return Optional.of(d.compareTo(MAX) > 0 ? MAX : d);
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }
}
