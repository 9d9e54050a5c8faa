package dev.fraiseql.observers.webhook.internal;

import dev.fraiseql.observers.spi.ActionResult;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One handler's HTTP endpoint: the client (connections reused, redirects never followed), the egress
 * check, the bound on concurrent requests, and the judgement of each answer.
 *
 * <p>2xx is delivered ({@code status=200}); 408, 425, 429, 5xx, connection errors and timeouts are
 * retryable (with the {@code Retry-After} delay when given); 3xx is a permanent failure (the
 * redirect is not followed; its {@code Location} is logged redacted); other 4xx are permanent. The
 * detail of a failure is {@code HTTP 503: <first bytes of the body>}.
 */
final class HttpEndpoint implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HttpEndpoint.class);

  private final String handler;
  private final URI uri;
  private final String redacted;
  private final String method;
  private final Map<String, String> headers;
  private final Duration requestTimeout;
  private final int excerptBytes;
  private final EgressPolicy egress;
  private final Scrubber scrubber;
  private final Clock clock;
  private final HttpClient client;
  private final EndpointLimiter limiter;
  /** HTTP/2 over TLS (negotiated, falls back to 1.1); plain http stays HTTP/1.1 (no h2c upgrade). */
  private final boolean http2;

  HttpEndpoint(String handler, URI uri, String redacted, String method, Map<String, String> headers,
      Duration requestTimeout, int maxConcurrency, int maxQueued, int excerptBytes, EgressPolicy egress,
      Scrubber scrubber, Clock clock) {
    this.handler = handler;
    this.uri = uri;
    this.redacted = redacted;
    this.method = method;
    this.headers = Map.copyOf(headers);
    this.requestTimeout = requestTimeout;
    this.excerptBytes = excerptBytes;
    this.egress = egress;
    this.scrubber = scrubber;
    this.clock = clock;
    warnIfThreadPerRequest();
    Duration connectTimeout = requestTimeout.compareTo(Duration.ofSeconds(10)) < 0 ? requestTimeout : Duration.ofSeconds(10);
    this.client = HttpClient.newBuilder()
        .followRedirects(HttpClient.Redirect.NEVER)
        .connectTimeout(connectTimeout)
        .build();
    this.http2 = "https".equalsIgnoreCase(uri.getScheme());
    this.limiter = new EndpointLimiter(maxConcurrency, maxQueued);
  }

  private static final AtomicBoolean WARNED = new AtomicBoolean();

  /**
   * java.net.http hands every response of {@code sendAsync} to CompletableFuture's default pool;
   * when the common pool has fewer than 2 threads (a host with 1 or 2 CPUs) that "pool" starts a new
   * thread per response, which costs more than the request itself on loopback. Said once per JVM.
   */
  private static void warnIfThreadPerRequest() {
    if (ForkJoinPool.getCommonPoolParallelism() < 2 && WARNED.compareAndSet(false, true)) {
      LOG.info("[observer] webhook: the common ForkJoinPool has parallelism {} ({} CPUs), so java.net.http "
          + "starts a new thread for every response; start the JVM with "
          + "-Djava.util.concurrent.ForkJoinPool.common.parallelism=2 (or more) for several times the "
          + "webhook throughput", ForkJoinPool.getCommonPoolParallelism(),
          Runtime.getRuntime().availableProcessors());
    }
  }

  /**
   * The request {@link #send} would make, without making it: method and redacted URL, then the
   * headers in sending order. Values of headers written in the configuration are masked (any of them
   * may hold a secret expanded from {@code ${VAR}}), and so are the {@code masked} ones (signatures).
   */
  dev.fraiseql.observers.spi.ActionPreview preview(byte[] body, String contentType, Map<String, String> extraHeaders,
      java.util.Set<String> masked) {
    Map<String, String> h = new java.util.LinkedHashMap<>();
    h.put("Content-Type", contentType);
    h.put("User-Agent", Version.USER_AGENT);
    headers.forEach((k, v) -> h.put(k, dev.fraiseql.observers.spi.ActionPreview.MASKED));
    extraHeaders.forEach((k, v) -> h.put(k, masked.contains(k) ? dev.fraiseql.observers.spi.ActionPreview.MASKED : v));
    String text = StandardCharsets.UTF_8.decode(java.nio.ByteBuffer.wrap(body)).toString();
    return new dev.fraiseql.observers.spi.ActionPreview(method + " " + redacted, h, text);
  }

  /** The redacted URL, for logs. */
  String redacted() {
    return redacted;
  }

  /**
   * Sends one request. Never completes exceptionally: every outcome is an {@link ActionResult}.
   *
   * @param extraHeaders per-attempt headers (event id, attempt, signatures)
   */
  CompletableFuture<ActionResult> send(byte[] body, String contentType, Map<String, String> extraHeaders) {
    CompletableFuture<ActionResult> result = new CompletableFuture<>();
    boolean queued = limiter.submit(() -> attempt(body, contentType, extraHeaders, result));
    if (!queued) {
      result.complete(ActionResult.retry("endpoint busy: " + limiter.queued()
          + " requests already waiting for " + redacted));
    }
    return result;
  }

  private void attempt(byte[] body, String contentType, Map<String, String> extraHeaders,
      CompletableFuture<ActionResult> result) {
    if (result.isDone()) {
      // The dispatcher gave up on this attempt (timeout) while it waited for a free slot.
      limiter.release();
      return;
    }
    try {
      Optional<String> refused = egress.check(uri.getHost());
      if (refused.isPresent()) {
        limiter.release();
        String why = "egress refused: " + redacted + " (" + refused.get() + ")";
        LOG.warn("[observer] {}: {}", handler, why);
        result.complete(ActionResult.failed(why));
        return;
      }
    } catch (UnknownHostException e) {
      limiter.release();
      result.complete(ActionResult.retry("cannot resolve host " + uri.getHost()));
      return;
    } catch (RuntimeException e) {
      limiter.release();
      result.complete(ActionResult.retry("egress check failed: " + e.getClass().getSimpleName()));
      return;
    }
    HttpRequest request;
    try {
      HttpRequest.Builder b = HttpRequest.newBuilder(uri)
          .timeout(requestTimeout)
          .version(http2 ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1)
          .method(method, HttpRequest.BodyPublishers.ofByteArray(body))
          .header("Content-Type", contentType)
          .header("User-Agent", Version.USER_AGENT);
      headers.forEach(b::setHeader);
      extraHeaders.forEach(b::setHeader);
      request = b.build();
    } catch (IllegalArgumentException e) {
      limiter.release();
      result.complete(ActionResult.failed("invalid request: " + scrubber.scrub(e.getMessage())));
      return;
    }
    long started = System.nanoTime();
    ExcerptBodyHandler response = new ExcerptBodyHandler(excerptBytes);
    CompletableFuture<HttpResponse<Void>> sent;
    try {
      sent = client.sendAsync(request, response);
    } catch (RuntimeException e) {
      limiter.release();
      result.complete(ActionResult.retry("cannot send: " + e.getClass().getSimpleName()));
      return;
    }
    sent.whenComplete((ignored, error) -> {
      try {
        ActionResult r;
        try {
          // the status decides; a body that broke off or ran over the drain limit after it does not
          r = error != null && response.info().isEmpty() ? judge(error) : judge(response);
        } catch (RuntimeException e) {
          r = ActionResult.retry("unexpected " + e.getClass().getSimpleName());
        }
        if (LOG.isTraceEnabled()) {
          // TRACE: the engine already logs each outcome at DEBUG in the seeds' shape; this adds the HTTP view.
          LOG.trace("[observer] {}: {} {} → {} in {}ms", handler, method, redacted, r,
              TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        }
        result.complete(r);
      } finally {
        // after this response's outcome: the next queued request starts on this thread (no hand-off)
        limiter.release();
      }
    });
  }

  private ActionResult judge(ExcerptBodyHandler response) {
    int status = response.status();
    if (status >= 200 && status < 300) {
      return ActionResult.delivered("status=" + status);
    }
    String excerpt = excerpt(response.excerpt());
    String detail = "HTTP " + status + (excerpt.isEmpty() ? "" : ": " + excerpt);
    if (status >= 300 && status < 400) {
      String location = response.headers().firstValue("Location").map(UrlRedaction::redact).orElse("none");
      String why = "HTTP " + status + ": redirect not followed (Location: " + scrubber.scrub(location) + ")";
      LOG.warn("[observer] {}: {} answered {}", handler, redacted, why);
      return ActionResult.failed(why);
    }
    if (status == 408 || status == 425 || status == 429 || status >= 500) {
      Optional<java.time.Duration> after =
          response.headers().firstValue("Retry-After").flatMap(v -> RetryAfter.parse(v, clock.instant()));
      return after.isPresent() ? ActionResult.retryAfter(after.get(), detail) : ActionResult.retry(detail);
    }
    return ActionResult.failed(detail);
  }

  private ActionResult judge(Throwable error) {
    Throwable e = error;
    while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
      e = e.getCause();
    }
    if (e instanceof HttpConnectTimeoutException) {
      return ActionResult.retry("connect timeout to " + redacted);
    }
    if (e instanceof HttpTimeoutException) {
      return ActionResult.retry("timeout after " + requestTimeout.toMillis() + "ms waiting for " + redacted);
    }
    if (e instanceof ConnectException) {
      return ActionResult.retry("connection refused by " + redacted);
    }
    if (e instanceof IOException) {
      String m = e.getMessage();
      return ActionResult.retry("I/O error talking to " + redacted + ": " + e.getClass().getSimpleName()
          + (m == null ? "" : " (" + scrubber.scrub(m) + ")"));
    }
    if (e instanceof IllegalArgumentException || e instanceof SecurityException) {
      return ActionResult.failed("request refused by the HTTP client: " + e.getClass().getSimpleName());
    }
    return ActionResult.retry("error talking to " + redacted + ": " + e.getClass().getSimpleName());
  }

  /** The body's first bytes as one printable line, secrets scrubbed. */
  private String excerpt(ExcerptBodyHandler.Excerpt body) {
    if (body == null || body.bytes().length == 0) {
      return "";
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPLACE)
          .onUnmappableCharacter(CodingErrorAction.REPLACE)
          .decode(java.nio.ByteBuffer.wrap(body.bytes())).toString();
    } catch (java.nio.charset.CharacterCodingException e) {
      text = "";
    }
    StringBuilder s = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      s.append(Character.isISOControl(c) ? ' ' : c);
    }
    String out = scrubber.scrub(s.toString().strip());
    return body.truncated() ? out + "…" : out;
  }

  @Override
  public void close() {
    // JDK 21+: stop taking requests and end the client's threads once the last response is in (on
    // JDK 17 there is no such call; the client's threads end when it is no longer reachable)
    try {
      HttpClient.class.getMethod("shutdown").invoke(client);
    } catch (NoSuchMethodException e) {
      // JDK 17
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.debug("[observer] {}: closing the HTTP client: {}", handler, e.toString());
    }
  }
}
