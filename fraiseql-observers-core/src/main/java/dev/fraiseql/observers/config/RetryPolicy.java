package dev.fraiseql.observers.config;

import java.time.Duration;
import java.util.Objects;

/**
 * A handler's own retry budget, in the spirit of resilience4j's {@code RetryConfig}:
 * {@code RetryPolicy.custom().maxAttempts(5).backoff(BackoffStrategy.EXPONENTIAL).build()}.
 *
 * <p>TOML keys on a handler: {@code max_attempts}, {@code backoff_strategy}, {@code initial_delay_ms},
 * {@code max_delay_ms}, {@code jitter}, {@code timeout_ms}. Defaults ({@link #ofDefaults()}): 3
 * attempts in all, exponential backoff from 1 s capped at 60 s, jitter 0.2, 30 s per attempt.
 *
 * <p>{@code maxAttempts} counts every attempt, the first included: 3 means one try and two retries.
 * The delay before attempt {@code n+1} is {@code initial × 2^(n-1)} (exponential), {@code initial × n}
 * (linear) or {@code initial} (fixed), capped at {@code maxDelay}, then spread by up to
 * ± {@code jitter} × delay. A delay the remote asked for ({@code Retry-After}) replaces the computed one,
 * capped at {@code maxDelay}.
 */
public final class RetryPolicy {
  public static final int DEFAULT_MAX_ATTEMPTS = 3;
  public static final Duration DEFAULT_INITIAL_DELAY = Duration.ofSeconds(1);
  public static final Duration DEFAULT_MAX_DELAY = Duration.ofSeconds(60);
  public static final double DEFAULT_JITTER = 0.2;
  public static final Duration DEFAULT_ATTEMPT_TIMEOUT = Duration.ofSeconds(30);

  private static final RetryPolicy DEFAULTS = new Builder().build();

  private final int maxAttempts;
  private final BackoffStrategy backoff;
  private final Duration initialDelay;
  private final Duration maxDelay;
  private final double jitter;
  private final Duration attemptTimeout;

  private RetryPolicy(Builder b) {
    if (b.maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be at least 1, got " + b.maxAttempts);
    }
    if (b.initialDelay.isNegative() || b.maxDelay.isNegative()) {
      throw new IllegalArgumentException("delays must not be negative");
    }
    if (b.maxDelay.compareTo(b.initialDelay) < 0) {
      throw new IllegalArgumentException("maxDelay (" + b.maxDelay.toMillis() + " ms) is less than initialDelay ("
          + b.initialDelay.toMillis() + " ms)");
    }
    if (!(b.jitter >= 0 && b.jitter <= 1)) {
      throw new IllegalArgumentException("jitter must be between 0 and 1, got " + b.jitter);
    }
    if (b.attemptTimeout.isZero() || b.attemptTimeout.isNegative()) {
      throw new IllegalArgumentException("attemptTimeout must be positive");
    }
    this.maxAttempts = b.maxAttempts;
    this.backoff = b.backoff;
    this.initialDelay = b.initialDelay;
    this.maxDelay = b.maxDelay;
    this.jitter = b.jitter;
    this.attemptTimeout = b.attemptTimeout;
  }

  public static RetryPolicy ofDefaults() {
    return DEFAULTS;
  }

  public static Builder custom() {
    return new Builder();
  }

  public static Builder from(RetryPolicy p) {
    return new Builder().maxAttempts(p.maxAttempts).backoff(p.backoff).initialDelay(p.initialDelay)
        .maxDelay(p.maxDelay).jitter(p.jitter).attemptTimeout(p.attemptTimeout);
  }

  public int maxAttempts() {
    return maxAttempts;
  }

  public BackoffStrategy backoff() {
    return backoff;
  }

  public Duration initialDelay() {
    return initialDelay;
  }

  public Duration maxDelay() {
    return maxDelay;
  }

  public double jitter() {
    return jitter;
  }

  public Duration attemptTimeout() {
    return attemptTimeout;
  }

  /**
   * The delay after failed attempt {@code attempt} (1-based), before jitter.
   */
  public Duration baseDelayAfter(int attempt) {
    long initial = initialDelay.toMillis();
    long cap = maxDelay.toMillis();
    long millis;
    switch (backoff) {
      case FIXED:
        millis = initial;
        break;
      case LINEAR:
        millis = saturatingMultiply(initial, Math.max(1, attempt));
        break;
      case EXPONENTIAL:
      default:
        int shift = Math.min(Math.max(0, attempt - 1), 62);
        millis = saturatingMultiply(initial, 1L << shift);
        break;
    }
    return Duration.ofMillis(Math.min(millis, cap));
  }

  /**
   * The delay after failed attempt {@code attempt}, with jitter drawn from {@code random} in [0, 1).
   * Never more than {@code maxDelay} and never negative.
   */
  public Duration delayAfter(int attempt, double random) {
    long base = baseDelayAfter(attempt).toMillis();
    long spread = Math.round(base * jitter * (2 * random - 1));
    return Duration.ofMillis(Math.max(0, Math.min(maxDelay.toMillis(), base + spread)));
  }

  /** A delay the remote asked for, capped at {@code maxDelay}. */
  public Duration capRequested(Duration requested) {
    if (requested.isNegative()) {
      return Duration.ZERO;
    }
    return requested.compareTo(maxDelay) > 0 ? maxDelay : requested;
  }

  private static long saturatingMultiply(long a, long b) {
    long hi = Math.multiplyHigh(a, b);
    long lo = a * b;
    if ((hi == 0 && lo >= 0) || (hi == -1 && lo < 0)) {
      return lo;
    }
    return Long.MAX_VALUE;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof RetryPolicy)) {
      return false;
    }
    RetryPolicy r = (RetryPolicy) o;
    return maxAttempts == r.maxAttempts && backoff == r.backoff && initialDelay.equals(r.initialDelay)
        && maxDelay.equals(r.maxDelay) && Double.compare(jitter, r.jitter) == 0
        && attemptTimeout.equals(r.attemptTimeout);
  }

  @Override
  public int hashCode() {
    return Objects.hash(maxAttempts, backoff, initialDelay, maxDelay, jitter, attemptTimeout);
  }

  @Override
  public String toString() {
    return "RetryPolicy{maxAttempts=" + maxAttempts + ", backoff=" + backoff.configName() + ", initialDelay="
        + initialDelay.toMillis() + "ms, maxDelay=" + maxDelay.toMillis() + "ms, jitter=" + jitter
        + ", attemptTimeout=" + attemptTimeout.toMillis() + "ms}";
  }

  /** Builds a {@link RetryPolicy}; starts from the defaults. */
  public static final class Builder {
    private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
    private BackoffStrategy backoff = BackoffStrategy.EXPONENTIAL;
    private Duration initialDelay = DEFAULT_INITIAL_DELAY;
    private Duration maxDelay = DEFAULT_MAX_DELAY;
    private double jitter = DEFAULT_JITTER;
    private Duration attemptTimeout = DEFAULT_ATTEMPT_TIMEOUT;

    private Builder() {}

    public Builder maxAttempts(int maxAttempts) {
      this.maxAttempts = maxAttempts;
      return this;
    }

    public Builder backoff(BackoffStrategy backoff) {
      this.backoff = Objects.requireNonNull(backoff, "backoff");
      return this;
    }

    public Builder initialDelay(Duration initialDelay) {
      this.initialDelay = Objects.requireNonNull(initialDelay, "initialDelay");
      return this;
    }

    public Builder maxDelay(Duration maxDelay) {
      this.maxDelay = Objects.requireNonNull(maxDelay, "maxDelay");
      return this;
    }

    /** Spread of each delay, 0 (none) to 1 (± the whole delay). */
    public Builder jitter(double jitter) {
      this.jitter = jitter;
      return this;
    }

    /** How long one attempt may take before it counts as failed (and retryable). */
    public Builder attemptTimeout(Duration attemptTimeout) {
      this.attemptTimeout = Objects.requireNonNull(attemptTimeout, "attemptTimeout");
      return this;
    }

    /** @throws IllegalArgumentException naming the value that is out of range */
    public RetryPolicy build() {
      return new RetryPolicy(this);
    }
  }
}
