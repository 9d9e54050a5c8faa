package dev.fraiseql.observers.webhook.internal;

import dev.fraiseql.observers.internal.LogThrottle;
import dev.fraiseql.observers.spi.ActionResult;
import dev.fraiseql.observers.spi.Delivery;
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
 *
 * <p>Waiting for a free slot ({@code max_concurrency}) is not part of an attempt: the request tells the
 * engine it is queued ({@link Delivery#markQueued()}), so the handler's {@code timeout_ms} does not run
 * and no budget is spent while it waits; its clock starts when the request is handed to the HTTP client
 * ({@link Delivery#markStarted()}), which is refused for an attempt the engine has given up on (such a
 * request is never sent). A wait is bounded by {@code queue_timeout_ms}: past it the request leaves the
 * queue unsent and the attempt counts as a retryable failure. If the engine gives up on an attempt (its
 * timeout passed, the engine is closing), a waiting request leaves the queue and a request in flight is
 * aborted. A saturated endpoint is logged once per {@link #LOG_INTERVAL_NANOS}, not per request.
 */
final class HttpEndpoint implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(HttpEndpoint.class);
  /** At most one "saturated" line and one "waited too long" line per endpoint per this interval. */
  static final long LOG_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(5);

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
  private final Duration queueTimeout;
  /** When the next "saturated" line is due (System.nanoTime()): one volatile read per queued request, no shared counter. */
  private final java.util.concurrent.atomic.AtomicLong nextSaturatedLine = new java.util.concurrent.atomic.AtomicLong(System.nanoTime());
  private final LogThrottle expiredLog = new LogThrottle(LOG_INTERVAL_NANOS, System.nanoTime());
  /** HTTP/2 over TLS (negotiated, falls back to 1.1); plain http stays HTTP/1.1 (no h2c upgrade). */
  private final boolean http2;

  /**
   * @param queueTimeout how long a request may wait for a free slot ({@code queue_timeout_ms}); zero for no limit
   */
  HttpEndpoint(String handler, URI uri, String redacted, String method, Map<String, String> headers,
      Duration requestTimeout, int maxConcurrency, Duration queueTimeout, int excerptBytes, EgressPolicy egress,
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
    this.queueTimeout = queueTimeout;
    this.limiter = new EndpointLimiter(maxConcurrency, queueTimeout.toNanos());
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
   * Sends one request for one attempt of {@code delivery}: at once when a slot is free, else after
   * waiting for one (not timed as part of the attempt; see the class comment). Never completes
   * exceptionally: every outcome is an {@link ActionResult}.
   *
   * @param extraHeaders per-attempt headers (event id, attempt, signatures)
   */
  CompletableFuture<ActionResult> send(Delivery delivery, byte[] body, String contentType, Map<String, String> extraHeaders) {
    Request r = new Request(delivery, body, contentType, extraHeaders);
    delivery.onAbandoned(r);
    if (limiter.submit(r)) {
      long due = nextSaturatedLine.get();
      long now = System.nanoTime();
      if (now - due >= 0 && nextSaturatedLine.compareAndSet(due, now + LOG_INTERVAL_NANOS)) {
        LOG.info("[observer] {}: {} is saturated: {} requests waiting for a free slot ({} of max_concurrency = {} in "
            + "flight, the oldest waiting {}ms); a wait is not an attempt (no budget spent, timeout_ms not running) and is "
            + "bounded by queue_timeout_ms = {}", handler, redacted, limiter.queued(), limiter.inFlight(),
            limiter.maxConcurrency(), TimeUnit.NANOSECONDS.toMillis(limiter.oldestWaitNanos()), queueTimeout.toMillis());
      }
    }
    return r.result;
  }

  /** One attempt's request: waits for a slot (maybe), then is sent; also the hook the engine runs if it gives up on it. */
  private final class Request extends EndpointLimiter.Task implements Runnable {
    final Delivery delivery;
    final byte[] body;
    final String contentType;
    final Map<String, String> extraHeaders;
    final CompletableFuture<ActionResult> result = new CompletableFuture<>();
    /** The exchange once handed to the client, to abort it if the engine gives up on the attempt. */
    volatile CompletableFuture<HttpResponse<Void>> sent;

    Request(Delivery delivery, byte[] body, String contentType, Map<String, String> extraHeaders) {
      this.delivery = delivery;
      this.body = body;
      this.contentType = contentType;
      this.extraHeaders = extraHeaders;
    }

    @Override
    void start() {
      attempt(this);
    }

    @Override
    boolean queued() {
      if (delivery.markQueued()) {
        return true;
      }
      result.complete(ActionResult.retry("abandoned by the engine before it was queued for " + redacted));
      return false;
    }

    @Override
    void expired(long waitedNanos, int stillWaiting) {
      String why = "no free slot at " + redacted + " within queue_timeout_ms = " + queueTimeout.toMillis()
          + " (waited " + TimeUnit.NANOSECONDS.toMillis(waitedNanos) + "ms; " + stillWaiting
          + " requests still waiting, max_concurrency = " + limiter.maxConcurrency() + "); not sent";
      long heldBack = expiredLog.admit(System.nanoTime());
      if (heldBack >= 0) {
        LOG.warn("[observer] {}: {}; each such request counts as a failed attempt and is retried per the handler's "
            + "budget{}", handler, why, heldBack == 0 ? "" : "; " + heldBack + " more waited too long since the last such line");
      }
      result.complete(ActionResult.retry(why));
    }

    /** The engine gave up on this attempt: leave the queue unsent, or abort the exchange in flight. */
    @Override
    public void run() {
      if (limiter.drop(this)) {
        result.complete(ActionResult.retry("abandoned by the engine while waiting for a slot at " + redacted));
        return;
      }
      CompletableFuture<HttpResponse<Void>> s = sent;
      if (s != null) {
        s.cancel(true); // JDK 16+: aborts the exchange; its completion below frees the slot
      }
    }
  }

  private void attempt(Request r) {
    if (r.result.isDone()) {
      limiter.release();
      return;
    }
    try {
      Optional<String> refused = egress.check(uri.getHost());
      if (refused.isPresent()) {
        limiter.release();
        String why = "egress refused: " + redacted + " (" + refused.get() + ")";
        LOG.warn("[observer] {}: {}", handler, why);
        r.result.complete(ActionResult.failed(why));
        return;
      }
    } catch (UnknownHostException e) {
      limiter.release();
      r.result.complete(ActionResult.retry("cannot resolve host " + uri.getHost()));
      return;
    } catch (RuntimeException e) {
      limiter.release();
      r.result.complete(ActionResult.retry("egress check failed: " + e.getClass().getSimpleName()));
      return;
    }
    HttpRequest request;
    try {
      HttpRequest.Builder b = HttpRequest.newBuilder(uri)
          .timeout(requestTimeout)
          .version(http2 ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1)
          .method(method, HttpRequest.BodyPublishers.ofByteArray(r.body))
          .header("Content-Type", r.contentType)
          .header("User-Agent", Version.USER_AGENT);
      headers.forEach(b::setHeader);
      r.extraHeaders.forEach(b::setHeader);
      request = b.build();
    } catch (IllegalArgumentException e) {
      limiter.release();
      r.result.complete(ActionResult.failed("invalid request: " + scrubber.scrub(e.getMessage())));
      return;
    }
    // The attempt's clock starts here, at the hand-off; an attempt the engine has given up on is not sent.
    if (!r.delivery.markStarted()) {
      limiter.release();
      r.result.complete(ActionResult.retry("abandoned by the engine before it was sent to " + redacted));
      return;
    }
    long started = System.nanoTime();
    ExcerptBodyHandler response = new ExcerptBodyHandler(excerptBytes);
    CompletableFuture<HttpResponse<Void>> sent;
    try {
      sent = client.sendAsync(request, response);
    } catch (RuntimeException e) {
      limiter.release();
      r.result.complete(ActionResult.retry("cannot send: " + e.getClass().getSimpleName()));
      return;
    }
    r.sent = sent;
    if (r.delivery.isAbandoned()) {
      sent.cancel(true); // given up on while being handed over (the hook may have looked before r.sent was set)
    }
    CompletableFuture<ActionResult> result = r.result;
    sent.whenComplete((ignored, error) -> {
      try {
        ActionResult outcome;
        try {
          // the status decides; a body that broke off or ran over the drain limit after it does not
          outcome = error != null && response.info().isEmpty() ? judge(error) : judge(response);
        } catch (RuntimeException e) {
          outcome = ActionResult.retry("unexpected " + e.getClass().getSimpleName());
        }
        if (LOG.isTraceEnabled()) {
          // TRACE: the engine already logs each outcome at DEBUG in the seeds' shape; this adds the HTTP view.
          LOG.trace("[observer] {}: {} {} → {} in {}ms", handler, method, redacted, outcome,
              TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        }
        result.complete(outcome);
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
