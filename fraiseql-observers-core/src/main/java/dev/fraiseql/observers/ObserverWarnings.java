package dev.fraiseql.observers;

import java.util.function.BiConsumer;

/**
 * Turns a {@link SynchronousResult} into the response header seed 001 describes:
 *
 * <pre>{@code
 * SynchronousResult r = engine.onCommit(event).awaitSynchronous();
 * ObserverWarnings.applyTo(r, response::setHeader);   // Servlet, Spring's HttpHeaders::add, ...
 * }</pre>
 *
 * The header is {@value #HEADER}; its value lists each failed or unfinished synchronous handler with
 * the reason, joined by {@code "; "}, and contains no secrets (details are already redacted). It is
 * set only when there is a warning.
 */
public final class ObserverWarnings {
  /** The header name. */
  public static final String HEADER = "X-FraiseQL-Observer-Warning";

  private ObserverWarnings() {}

  /** Calls {@code setHeader.accept(HEADER, value)} when {@code result} has warnings. */
  public static void applyTo(SynchronousResult result, BiConsumer<String, String> setHeader) {
    result.headerValue().ifPresent(v -> setHeader.accept(HEADER, sanitize(v)));
  }

  /** Header values are one line of visible ASCII: anything else becomes '?', and it is kept short. */
  static String sanitize(String v) {
    StringBuilder sb = new StringBuilder(Math.min(v.length(), 1024));
    for (int i = 0; i < v.length() && sb.length() < 1024; i++) {
      char c = v.charAt(i);
      sb.append(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return sb.toString();
  }
}
