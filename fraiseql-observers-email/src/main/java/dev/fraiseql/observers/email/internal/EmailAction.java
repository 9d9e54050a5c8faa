package dev.fraiseql.observers.email.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.spi.Action;
import dev.fraiseql.observers.spi.ActionContext;
import dev.fraiseql.observers.spi.ActionResult;
import dev.fraiseql.observers.spi.Delivery;
import dev.fraiseql.observers.spi.OutboundMessage;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code action = "email"}: one SMTP message per attempt, its addresses, subject and bodies rendered from
 * Mustache templates over the event's default JSON.
 *
 * <p>Sends run on the handler's own connection slots ({@code max_connections} threads, created on
 * demand, ended when idle), never on the engine's workers. A send waits for a free slot in a queue
 * (bounded by {@code [observers] max_in_flight}); that wait is not part of the attempt: the send is
 * {@linkplain Delivery#markQueued() queued} with the engine, so the handler's {@code timeout_ms} does
 * not run and no budget is spent, and it is {@linkplain Delivery#markStarted() started} on the slot
 * thread right before connecting (never, if the engine gave the attempt up meanwhile). The wait is
 * bounded by {@code queue_timeout_ms}: past it the send leaves the queue unsent and the attempt is a
 * retryable failure. A send the engine gives up on while it waits (the engine is closing) is taken out
 * of the queue. A send that left the queue never connects, so nothing is sent late.
 * Each message carries a {@code Message-ID} derived from the event id and the handler name, the same on
 * every attempt and replay.
 */
public final class EmailAction implements Action {
  private static final Logger LOG = LoggerFactory.getLogger(EmailAction.class);
  /** Decimals as written ({@code 41.50}, not {@code 41.5}). */
  private static final ObjectMapper MAPPER = new ObjectMapper()
      .enable(com.fasterxml.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

  public static final String TO = "to";
  public static final String CC = "cc";
  public static final String BCC = "bcc";
  public static final String FROM = "from";
  public static final String REPLY_TO = "reply_to";
  public static final String SUBJECT = "subject";
  /**
   * The subject under another name, for {@code [[observers.subscribe]]} entries, where {@code subject} is
   * the subject subscribed to.
   */
  public static final String EMAIL_SUBJECT = "email_subject";
  public static final String TEXT = "text";
  public static final String HTML = "html";
  public static final String MAX_CONNECTIONS = "max_connections";
  /** How long a send may wait for a free connection slot (as {@code queue_timeout_ms} of webhooks). */
  public static final String QUEUE_TIMEOUT_MS = "queue_timeout_ms";

  static final int DEFAULT_MAX_CONNECTIONS = 4;
  /** The webhook's default: a send waiting longer for a slot is a retryable failure, not sent. */
  static final Duration DEFAULT_QUEUE_TIMEOUT = Duration.ofSeconds(60);

  /** Every key the email action reads. */
  public static final Set<String> KEYS;

  static {
    Set<String> k = new HashSet<>(SmtpServer.KEYS);
    k.addAll(List.of(TO, CC, BCC, FROM, REPLY_TO, SUBJECT, EMAIL_SUBJECT, TEXT, HTML, MAX_CONNECTIONS,
        QUEUE_TIMEOUT_MS));
    KEYS = Set.copyOf(k);
  }

  /** The per-delivery header: {@code <event id>:<handler>}, stable across attempts (as on webhooks). */
  public static final String HEADER_DELIVERY_ID = "Fraiseql-Delivery-Id";

  private static final Pattern DOMAIN = Pattern.compile("[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*");
  private static final Pattern ATOM = Pattern.compile("[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*");

  private final String handler;
  private final SmtpServer server;
  private final Session session;
  private final List<MailTemplate> to;
  private final List<MailTemplate> cc;
  private final List<MailTemplate> bcc;
  private final MailTemplate from;
  private final List<MailTemplate> replyTo;
  private final MailTemplate subject;
  private final MailTemplate text;
  private final MailTemplate html;
  private final Scrubber scrubber;
  private final ThreadPoolExecutor slots;
  /** Times the socket writes of every connection of this handler (else Angus starts a thread per connection). */
  private final ScheduledThreadPoolExecutor writeTimer;
  private final int maxConnections;
  /** {@code queue_timeout_ms}; zero for no limit. */
  private final Duration queueTimeout;
  private final Clock clock;
  private final String idPart;

  private EmailAction(Builder b) {
    this.handler = b.handler;
    this.server = b.server;
    this.writeTimer = new ScheduledThreadPoolExecutor(1, r -> {
      Thread t = new Thread(r, "fraiseql-email-" + b.handler + "-write-timeout");
      t.setDaemon(true);
      return t;
    });
    this.writeTimer.setRemoveOnCancelPolicy(true);
    java.util.Properties props = b.server.properties();
    props.put("mail." + b.server.protocol() + ".executor.writetimeout", writeTimer);
    if (b.socketFactory != null) {
      // the host's TLS trust (for smtps:// and STARTTLS); the server's host name is still checked
      props.put("mail." + b.server.protocol() + ".ssl.socketFactory", b.socketFactory);
    }
    this.session = Session.getInstance(props);
    this.to = b.to;
    this.cc = b.cc;
    this.bcc = b.bcc;
    this.from = b.from;
    this.replyTo = b.replyTo;
    this.subject = b.subject;
    this.text = b.text;
    this.html = b.html;
    this.scrubber = new Scrubber(b.server.secrets());
    this.maxConnections = b.maxConnections;
    this.queueTimeout = b.queueTimeout;
    this.clock = b.clock;
    this.idPart = messageIdPart(b.handler);
    AtomicInteger n = new AtomicInteger();
    this.slots = new ThreadPoolExecutor(b.maxConnections, b.maxConnections, 30, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(b.maxQueued), r -> {
          Thread t = new Thread(r, "fraiseql-email-" + b.handler + "-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    this.slots.allowCoreThreadTimeOut(true);
  }

  private static final class Builder {
    String handler;
    SmtpServer server;
    List<MailTemplate> to = List.of();
    List<MailTemplate> cc = List.of();
    List<MailTemplate> bcc = List.of();
    MailTemplate from;
    List<MailTemplate> replyTo = List.of();
    MailTemplate subject;
    MailTemplate text;
    MailTemplate html;
    int maxConnections;
    int maxQueued;
    Duration queueTimeout;
    Clock clock;
    javax.net.ssl.SSLSocketFactory socketFactory;
  }

  /**
   * Creates the action for one handler, validating every key (all problems are reported at once).
   *
   * @throws ObserverConfigException naming each key, its location and the fix
   */
  public static EmailAction create(ActionContext ctx) {
    Settings s = ctx.settings();
    String h = ctx.handlerName();
    Problems p = new Problems();
    Builder b = new Builder();
    b.handler = h;
    b.server = p.check(() -> SmtpServer.read(ctx), null);
    b.to = p.check(() -> addresses(s, TO, h), List.of());
    b.cc = p.check(() -> addresses(s, CC, h), List.of());
    b.bcc = p.check(() -> addresses(s, BCC, h), List.of());
    b.replyTo = p.check(() -> addresses(s, REPLY_TO, h), List.of());
    if (!s.has(TO) && !s.has(CC) && !s.has(BCC)) {
      p.check(() -> {
        throw new ObserverConfigException(new dev.fraiseql.observers.config.ConfigProblem(ctx.location(), TO,
            "handler " + h + " (action = \"email\") has no recipient",
            "add to = \"{{data.new.email}}\" (a Mustache template over the event; cc and bcc too)"));
      }, null);
    }
    b.from = p.check(() -> {
      if (!s.has(FROM)) {
        throw new ObserverConfigException(new dev.fraiseql.observers.config.ConfigProblem(ctx.location(), FROM,
            "handler " + h + " (action = \"email\") has no sender", "add from = \"Shop <orders@example.com>\""));
      }
      List<MailTemplate> f = addresses(s, FROM, h);
      if (f.size() != 1) {
        throw SmtpServer.problem(s, FROM, "from of handler " + h + " must be one address", "write one address");
      }
      return f.get(0);
    }, null);
    b.subject = p.check(() -> {
      if (s.has(SUBJECT) && s.has(EMAIL_SUBJECT)) {
        throw SmtpServer.problem(s, EMAIL_SUBJECT, "handler " + h + " sets both subject and email_subject",
            "keep one (email_subject is for [[observers.subscribe]] entries, whose `subject` is the bus subject)");
      }
      String key = s.has(EMAIL_SUBJECT) ? EMAIL_SUBJECT : SUBJECT;
      String t = s.string(key).orElseThrow(() -> new ObserverConfigException(new dev.fraiseql.observers.config.ConfigProblem(
          ctx.location(), SUBJECT, "handler " + h + " (action = \"email\") has no subject",
          "add subject = \"Your order {{data.new.id}} is confirmed\" (in [[observers.subscribe]]: email_subject = ...)")));
      return MailTemplate.compile(s, key, t, MailTemplate.Kind.HEADER, h);
    }, null);
    b.text = s.has(TEXT) ? p.check(() -> MailTemplate.compile(s, TEXT, s.string(TEXT).orElseThrow(),
        MailTemplate.Kind.TEXT, h), null) : null;
    b.html = s.has(HTML) ? p.check(() -> MailTemplate.compile(s, HTML, s.string(HTML).orElseThrow(),
        MailTemplate.Kind.HTML, h), null) : null;
    if (!s.has(TEXT) && !s.has(HTML)) {
      p.check(() -> {
        throw new ObserverConfigException(new dev.fraiseql.observers.config.ConfigProblem(ctx.location(), TEXT,
            "handler " + h + " (action = \"email\") has no body", "add text = \"...\" and/or html = \"...\""));
      }, null);
    }
    b.maxConnections = p.check(() -> s.intValue(MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS, 1, 256), DEFAULT_MAX_CONNECTIONS);
    b.queueTimeout = p.check(() -> {
      Duration q = s.millis(QUEUE_TIMEOUT_MS, DEFAULT_QUEUE_TIMEOUT);
      if (q.compareTo(Duration.ofDays(1)) > 0) {
        throw SmtpServer.problem(s, QUEUE_TIMEOUT_MS, "queue_timeout_ms of handler " + h + " is more than a day",
            "give at most 86400000, or 0 to wait for a free slot without a limit (default 60000)");
      }
      return q;
    }, DEFAULT_QUEUE_TIMEOUT);
    p.throwIfAny(ctx.config().source());
    b.maxQueued = Math.max(1, ctx.config().maxInFlight());
    b.clock = ctx.component(Clock.class).orElse(Clock.systemUTC());
    b.socketFactory = ctx.component(javax.net.ssl.SSLSocketFactory.class).orElse(null);
    return new EmailAction(b);
  }

  /** A string or an array of strings, each a template of one or more comma-separated addresses. */
  private static List<MailTemplate> addresses(Settings s, String key, String handler) {
    if (!s.has(key)) {
      return List.of();
    }
    List<String> values = s.stringList(key);
    if (values.isEmpty()) {
      throw SmtpServer.problem(s, key, key + " of handler " + handler + " is empty", "give at least one address");
    }
    List<MailTemplate> out = new ArrayList<>();
    for (String v : values) {
      if (v.isBlank()) {
        throw SmtpServer.problem(s, key, key + " of handler " + handler + " has an empty address",
            "remove it or write an address such as \"{{data.new.email}}\"");
      }
      if (!v.contains("{{")) {
        for (int i = 0; i < v.length(); i++) {
          if (MailTemplate.isControl(v.charAt(i))) {
            throw SmtpServer.problem(s, key, key + " of handler " + handler + " contains a line break or control character",
                "write addresses on one line");
          }
        }
        try {
          for (InternetAddress a : InternetAddress.parse(v, true)) {
            a.validate();
          }
        } catch (AddressException e) {
          throw SmtpServer.problem(s, key, key + " of handler " + handler + " is not a valid address list ("
              + e.getMessage() + ")", "write addresses as a@example.com or Name <a@example.com>, separated by commas");
        }
      }
      out.add(MailTemplate.compile(s, key, v, MailTemplate.Kind.ADDRESS, handler));
    }
    return List.copyOf(out);
  }

  /** The handler's part of the Message-ID: its name when it is a dot-atom, else a hash of it. */
  static String messageIdPart(String handler) {
    if (ATOM.matcher(handler).matches()) {
      return handler;
    }
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(handler.getBytes(StandardCharsets.UTF_8));
      return "h" + HexFormat.of().formatHex(d, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** {@code <event-id.handler@domain-of-from>}: the same for every attempt and replay of one (event, handler). */
  String messageId(Delivery d, InternetAddress sender) {
    String address = sender.getAddress();
    int at = address == null ? -1 : address.lastIndexOf('@');
    String domain = at < 0 ? "" : address.substring(at + 1);
    if (!DOMAIN.matcher(domain).matches()) {
      domain = "fraiseql.invalid";
    }
    return "<" + d.event().id() + "." + idPart + "@" + domain + ">";
  }

  @Override
  public CompletionStage<ActionResult> execute(Delivery delivery) {
    MimeMessage message;
    List<InternetAddress> recipients = new ArrayList<>();
    try {
      message = build(delivery, recipients);
    } catch (MailTemplate.RefusedValueException e) {
      return CompletableFuture.completedFuture(ActionResult.failed("cannot build the email: " + e.getMessage()));
    } catch (MessagingException e) {
      return CompletableFuture.completedFuture(ActionResult.failed("cannot build the email: "
          + SmtpOutcome.oneLine(e.getMessage(), scrubber)));
    }
    Send send = new Send(delivery, message, recipients);
    if (!delivery.markQueued()) {
      // the engine has given this attempt up already (it is closing): any result is ignored
      return CompletableFuture.completedFuture(ActionResult.retry("not sent: the attempt was given up before it was queued"));
    }
    try {
      if (!queueTimeout.isZero()) {
        send.expiry = writeTimer.schedule(send::expire, queueTimeout.toNanos(), TimeUnit.NANOSECONDS);
      }
      delivery.onAbandoned(send::abandon);
      slots.execute(send);
    } catch (RejectedExecutionException e) { // the queue is full, or the action is closed
      send.leave(ActionResult.retry("busy: " + slots.getQueue().size()
          + " messages already waiting for one of " + maxConnections + " connections to " + server.redacted()));
    }
    return send.result;
  }

  /**
   * One send: waits in the slot queue, then either starts on a slot thread (once) or leaves the queue
   * unstarted (past {@code queue_timeout_ms}, given up by the engine, refused, or the action closed),
   * whichever comes first.
   */
  private final class Send implements Runnable {
    private static final int WAITING = 0;
    private static final int STARTED = 1;
    private static final int GONE = 2;
    private final AtomicInteger state = new AtomicInteger(WAITING);
    private final Delivery delivery;
    private final MimeMessage message;
    private final List<InternetAddress> recipients;
    private final long queuedAt = System.nanoTime();
    final CompletableFuture<ActionResult> result = new CompletableFuture<>();
    /** The {@code queue_timeout_ms} timer; null when there is no limit. */
    volatile ScheduledFuture<?> expiry;

    Send(Delivery delivery, MimeMessage message, List<InternetAddress> recipients) {
      this.delivery = delivery;
      this.message = message;
      this.recipients = recipients;
    }

    /** On a slot thread: connect and send, unless it left the queue or the engine refuses the start. */
    @Override
    public void run() {
      if (!state.compareAndSet(WAITING, STARTED)) {
        return;
      }
      cancelExpiry();
      if (!delivery.markStarted()) {
        // given up while it waited (the engine is closing): never connect; the result is ignored
        result.complete(ActionResult.retry("not sent: the attempt was given up while it waited for a connection slot"));
        return;
      }
      result.complete(send(message, recipients));
    }

    /** Past {@code queue_timeout_ms} without a slot: a retryable failure, never sent. */
    void expire() {
      long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - queuedAt);
      if (leave(ActionResult.retry("no free connection slot to " + server.redacted() + " within queue_timeout_ms = "
          + queueTimeout.toMillis() + " (waited " + waited + "ms; " + slots.getQueue().size()
          + " sends waiting, max_connections = " + maxConnections + "); not sent"))) {
        LOG.debug("[observer] {}: a send waited {}ms for one of {} connections to {}; not sent (queue_timeout_ms = {})",
            handler, waited, maxConnections, server.redacted(), queueTimeout.toMillis());
      }
    }

    /** The engine gave the attempt up: out of the queue (harmless once it started or left). */
    void abandon() {
      leave(ActionResult.retry("not sent: the attempt was given up while it waited for a connection slot"));
    }

    /** Leaves the queue unstarted with {@code why}; false if it had already started or left. */
    boolean leave(ActionResult why) {
      if (!state.compareAndSet(WAITING, GONE)) {
        return false;
      }
      slots.remove(this);
      cancelExpiry();
      result.complete(why);
      return true;
    }

    private void cancelExpiry() {
      ScheduledFuture<?> e = expiry;
      if (e != null) {
        e.cancel(false);
      }
    }
  }

  private MimeMessage build(Delivery delivery, List<InternetAddress> recipients) throws MessagingException {
    Object model;
    try {
      model = MAPPER.readValue(delivery.payload(), Object.class);
    } catch (IOException e) {
      throw new MailTemplate.RefusedValueException("the event payload is not valid JSON");
    }
    InternetAddress sender = single(from, model);
    Message.RecipientType[] types = {Message.RecipientType.TO, Message.RecipientType.CC, Message.RecipientType.BCC};
    List<List<MailTemplate>> lists = List.of(to, cc, bcc);
    List<List<InternetAddress>> rendered = new ArrayList<>();
    for (List<MailTemplate> l : lists) {
      List<InternetAddress> r = render(l, model);
      rendered.add(r);
      recipients.addAll(r);
    }
    if (recipients.isEmpty()) {
      throw new MailTemplate.RefusedValueException("no recipient: to, cc and bcc rendered empty for this event");
    }
    FixedIdMessage m = new FixedIdMessage(session, messageId(delivery, sender));
    m.setFrom(sender);
    for (int i = 0; i < types.length; i++) {
      if (!rendered.get(i).isEmpty()) {
        m.setRecipients(types[i], rendered.get(i).toArray(new InternetAddress[0]));
      }
    }
    List<InternetAddress> replies = render(replyTo, model);
    if (!replies.isEmpty()) {
      m.setReplyTo(replies.toArray(new InternetAddress[0]));
    }
    m.setSubject(subject.render(model), "UTF-8");
    m.setSentDate(Date.from(clock.instant()));
    m.setHeader(OutboundMessage.HEADER_EVENT_ID, delivery.event().id().toString());
    m.setHeader(HEADER_DELIVERY_ID, headerSafe(delivery.idempotencyKey()));
    if (text != null && html != null) {
      MimeMultipart alternative = new MimeMultipart("alternative");
      MimeBodyPart plain = new MimeBodyPart();
      plain.setText(text.render(model), "UTF-8");
      MimeBodyPart rich = new MimeBodyPart();
      rich.setText(html.render(model), "UTF-8", "html");
      alternative.addBodyPart(plain);
      alternative.addBodyPart(rich);
      m.setContent(alternative);
    } else if (html != null) {
      m.setText(html.render(model), "UTF-8", "html");
    } else {
      m.setText(text.render(model), "UTF-8");
    }
    m.saveChanges();
    return m;
  }

  /** A header value as is when it is printable ASCII, else percent-encoded (UTF-8). */
  static String headerSafe(String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < 0x20 || c > 0x7e) {
        return java.net.URLEncoder.encode(value, StandardCharsets.UTF_8);
      }
    }
    return value;
  }

  private static InternetAddress single(MailTemplate t, Object model) {
    List<InternetAddress> a = parse(t, model);
    if (a.size() != 1) {
      throw new MailTemplate.RefusedValueException("`" + t.key() + "` rendered " + a.size() + " addresses, expected one");
    }
    return a.get(0);
  }

  private static List<InternetAddress> render(List<MailTemplate> templates, Object model) {
    List<InternetAddress> out = new ArrayList<>();
    for (MailTemplate t : templates) {
      out.addAll(parse(t, model));
    }
    return out;
  }

  private static List<InternetAddress> parse(MailTemplate t, Object model) {
    String text = t.render(model);
    if (text.isEmpty()) {
      return List.of();
    }
    try {
      List<InternetAddress> out = new ArrayList<>();
      for (InternetAddress a : InternetAddress.parse(text, true)) {
        a.validate();
        out.add(a);
      }
      return out;
    } catch (AddressException e) {
      // the reason only (no event data): "Missing final '@domain'", "Local address contains control or whitespace"
      throw new MailTemplate.RefusedValueException("the rendered `" + t.key() + "` is not a valid address ("
          + Optional.ofNullable(e.getMessage()).map(m -> m.replace(text, "…")).orElse("invalid") + ")");
    }
  }

  /** One SMTP conversation: connect (TLS per settings), authenticate, send, close. Runs on a slot thread. */
  private ActionResult send(MimeMessage message, List<InternetAddress> recipients) {
    long started = System.nanoTime();
    ActionResult r;
    Transport transport = null;
    try {
      transport = session.getTransport(server.protocol());
      if (server.username().isPresent()) {
        transport.connect(server.host(), server.port(), server.username().get(), server.password());
      } else {
        transport.connect(server.host(), server.port(), null, null);
      }
      transport.sendMessage(message, recipients.toArray(new InternetAddress[0]));
      r = ActionResult.delivered("smtp=250 message-id=" + message.getMessageID());
    } catch (MessagingException e) {
      r = SmtpOutcome.judge(e, server.redacted(), scrubber);
    } catch (RuntimeException e) {
      r = ActionResult.retry("unexpected " + e.getClass().getSimpleName() + " talking to " + server.redacted());
    } finally {
      if (transport != null) {
        try {
          transport.close();
        } catch (MessagingException | RuntimeException e) {
          LOG.trace("[observer] {}: closing the SMTP connection: {}", handler, e.getClass().getSimpleName());
        }
      }
    }
    if (LOG.isTraceEnabled()) {
      LOG.trace("[observer] {}: SMTP {} → {} in {}ms", handler, server.redacted(), r,
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    }
    return r;
  }

  @Override
  public String describe() {
    return "email via " + server.redacted();
  }

  @Override
  public void close() {
    // The engine closes actions after it waited for in-flight deliveries and dead-lettered the rest
    // (reason "shutdown"): sends still queued are dropped, never sent after their dead letter was written.
    for (Runnable queued : slots.shutdownNow()) {
      ((Send) queued).leave(ActionResult.retry("not sent: the email action closed"));
    }
    try {
      slots.awaitTermination(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    writeTimer.shutdownNow();
  }

  @Override
  public String toString() {
    return "EmailAction{" + handler + ", " + server + "}";
  }

  /** A MimeMessage whose Message-ID is ours, not a random one made at {@code saveChanges()}. */
  private static final class FixedIdMessage extends MimeMessage {
    private final String id;

    FixedIdMessage(Session session, String id) {
      super(session);
      this.id = id;
    }

    @Override
    protected void updateMessageID() throws MessagingException {
      setHeader("Message-ID", id);
    }
  }
}
