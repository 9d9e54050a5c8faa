package dev.fraiseql.observers.webhook.internal;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * Keeps at most {@code limit} bytes of a response body (the excerpt recorded with the attempt) and
 * discards the rest. The rest is drained, so the connection can be reused, up to
 * {@link #DRAIN_LIMIT} bytes; beyond that the body is abandoned (and the connection closed), so a
 * receiver cannot make us read forever. A body that breaks off mid-way yields what arrived.
 */
final class ExcerptBodyHandler implements HttpResponse.BodyHandler<ExcerptBodyHandler.Excerpt> {
  static final long DRAIN_LIMIT = 1L << 20;

  /** The first bytes of a body and whether there was more. */
  record Excerpt(byte[] bytes, boolean truncated) {}

  private final int limit;

  ExcerptBodyHandler(int limit) {
    this.limit = limit;
  }

  @Override
  public HttpResponse.BodySubscriber<Excerpt> apply(HttpResponse.ResponseInfo info) {
    return new Sub(limit);
  }

  private static final class Sub implements HttpResponse.BodySubscriber<Excerpt> {
    private final int limit;
    private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
    private final CompletableFuture<Excerpt> result = new CompletableFuture<>();
    private long seen;
    private Flow.Subscription subscription;

    Sub(int limit) {
      this.limit = limit;
    }

    @Override
    public CompletionStage<Excerpt> getBody() {
      return result;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      subscription = s;
      s.request(1);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
      if (result.isDone()) {
        return;
      }
      for (ByteBuffer b : items) {
        int n = b.remaining();
        int room = limit - kept.size();
        if (room > 0) {
          byte[] chunk = new byte[Math.min(room, n)];
          b.get(chunk);
          kept.write(chunk, 0, chunk.length);
        }
        seen += n;
      }
      if (seen > DRAIN_LIMIT) {
        subscription.cancel();
        finish();
      } else {
        subscription.request(1);
      }
    }

    @Override
    public void onError(Throwable t) {
      finish();
    }

    @Override
    public void onComplete() {
      finish();
    }

    private void finish() {
      result.complete(new Excerpt(kept.toByteArray(), seen > kept.size()));
    }
  }
}
