package dev.fraiseql.observers.spi;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * What one attempt of an action came to: {@link Delivered} (or a duplicate of an earlier delivery), {@link Retry} (optionally after a delay
 * the remote asked for, such as {@code Retry-After}), or {@link Failed} (permanent: no retry, straight
 * to the dead letters). An exception thrown by an action, or a stage completed exceptionally, counts
 * as {@link Retry} unless it is a {@link PermanentFailureException}.
 */
public abstract class ActionResult {
  private final String detail;

  private ActionResult(String detail) {
    this.detail = detail == null ? "" : detail;
  }

  /** Human-readable detail for logs and dead letters ({@code status=200}, {@code HTTP 503 ...}). Never a secret. */
  public String detail() {
    return detail;
  }

  public static Delivered delivered() {
    return Delivered.PLAIN;
  }

  public static Delivered delivered(String detail) {
    return new Delivered(detail);
  }

  /**
   * The effect already exists and was not produced again: a SQL action found its idempotency key, a
   * bus recognised the de-duplication id. The delivery ends as {@code DUPLICATE}, not {@code DELIVERED}.
   */
  public static Delivered duplicate(String detail) {
    return new Delivered(detail, true);
  }

  public static Retry retry(String reason) {
    return new Retry(reason, null);
  }

  public static Retry retryAfter(Duration after, String reason) {
    return new Retry(reason, Objects.requireNonNull(after, "after"));
  }

  public static Failed failed(String reason) {
    return new Failed(reason);
  }

  public abstract boolean isDelivered();

  /** The action did what it was asked. */
  public static final class Delivered extends ActionResult {
    static final Delivered PLAIN = new Delivered("");
    private final boolean duplicate;

    private Delivered(String detail) {
      this(detail, false);
    }

    private Delivered(String detail, boolean duplicate) {
      super(detail);
      this.duplicate = duplicate;
    }

    @Override
    public boolean isDelivered() {
      return true;
    }

    /** True when it was a duplicate (see {@link ActionResult#duplicate(String)}): nothing was done again. */
    public boolean isDuplicate() {
      return duplicate;
    }

    @Override
    public String toString() {
      return (duplicate ? "Duplicate" : "Delivered") + (detail().isEmpty() ? "" : "(" + detail() + ")");
    }
  }

  /** A transient failure: try again, after the remote's requested delay if it gave one. */
  public static final class Retry extends ActionResult {
    private final Duration after;

    private Retry(String reason, Duration after) {
      super(reason);
      this.after = after;
    }

    /** The delay the remote asked for; the dispatcher caps it at the handler's maximum delay. */
    public Optional<Duration> after() {
      return Optional.ofNullable(after);
    }

    @Override
    public boolean isDelivered() {
      return false;
    }

    @Override
    public String toString() {
      return "Retry(" + detail() + (after != null ? ", after " + after.toMillis() + "ms" : "") + ")";
    }
  }

  /** A permanent failure: retrying cannot help (HTTP 400, undefined SQL function...). */
  public static final class Failed extends ActionResult {
    private Failed(String reason) {
      super(reason);
    }

    @Override
    public boolean isDelivered() {
      return false;
    }

    @Override
    public String toString() {
      return "Failed(" + detail() + ")";
    }
  }
}
