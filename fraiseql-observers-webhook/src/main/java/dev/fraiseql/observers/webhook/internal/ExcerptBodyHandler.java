package dev.fraiseql.observers.webhook.internal;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpHeaders;
import java.net.http.HttpResponse;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * One attempt's response: its status and headers as soon as they arrive, and at most {@code limit}
 * bytes of its body (the excerpt recorded with the attempt); the rest is discarded. The rest is
 * drained, so the connection can be reused, up to {@link #DRAIN_LIMIT} bytes; beyond that reading
 * stops (the client then closes the connection), so a receiver cannot make us read forever. A body
 * that breaks off mid-way yields what arrived: the status already decides the outcome.
 *
 * <p>Built on {@link HttpResponse.BodySubscribers#ofByteArrayConsumer}, one of the client's own
 * subscribers, rather than a custom {@code BodySubscriber}: the client completes the response of
 * its own subscribers where the body ends, while a custom one costs every response an extra hand-off
 * to another thread.
 */
final class ExcerptBodyHandler implements HttpResponse.BodyHandler<Void>, Consumer<Optional<byte[]>> {
  static final long DRAIN_LIMIT = 1L << 20;

  /** Thrown into the client to stop reading a body past {@link #DRAIN_LIMIT}; never leaves this package. */
  static final class Abandoned extends RuntimeException {
    Abandoned() {
      super("response body over " + DRAIN_LIMIT + " bytes: abandoned", null, false, false);
    }
  }

  /** The first bytes of a body and whether there was more. */
  record Excerpt(byte[] bytes, boolean truncated) {}

  private final int limit;
  private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
  private volatile HttpResponse.ResponseInfo info;
  private long seen;

  ExcerptBodyHandler(int limit) {
    this.limit = limit;
  }

  @Override
  public HttpResponse.BodySubscriber<Void> apply(HttpResponse.ResponseInfo responseInfo) {
    this.info = responseInfo;
    return HttpResponse.BodySubscribers.ofByteArrayConsumer(this);
  }

  @Override
  public void accept(Optional<byte[]> chunk) {
    if (chunk.isEmpty()) {
      return;
    }
    byte[] b = chunk.get();
    synchronized (kept) {
      int room = limit - kept.size();
      if (room > 0) {
        kept.write(b, 0, Math.min(room, b.length));
      }
      seen += b.length;
      if (seen > DRAIN_LIMIT) {
        throw new Abandoned();
      }
    }
  }

  /** The status line and headers, once they arrived (empty when the exchange failed before them). */
  Optional<HttpResponse.ResponseInfo> info() {
    return Optional.ofNullable(info);
  }

  int status() {
    return info.statusCode();
  }

  HttpHeaders headers() {
    return info.headers();
  }

  Excerpt excerpt() {
    synchronized (kept) {
      return new Excerpt(kept.toByteArray(), seen > kept.size());
    }
  }
}
