package dev.fraiseql.observers.spi;

import java.time.Duration;
import java.time.Instant;

/**
 * One attempt in a delivery's history, kept with its dead letter.
 *
 * @param attempt 1-based
 * @param startedAt when it started
 * @param elapsed how long it took
 * @param outcome what came of it ({@code HTTP 503: upstream down}, {@code timeout after 30000ms}); never a secret
 */
public record AttemptRecord(int attempt, Instant startedAt, Duration elapsed, String outcome) {}
