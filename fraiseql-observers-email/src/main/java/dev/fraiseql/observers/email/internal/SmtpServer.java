package dev.fraiseql.observers.email.internal;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.config.ConfigProblem;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.spi.ActionContext;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;

/**
 * The SMTP server of one handler: where ({@code smtp_url} / {@code smtp_url_env}), how
 * ({@code starttls}), as whom ({@code username} / {@code username_env}, {@code password_env}) and with
 * which timeouts. {@link #toString()} and {@link #redacted()} never show the password.
 */
final class SmtpServer {
  static final String SMTP_URL = "smtp_url";
  static final String SMTP_URL_ENV = "smtp_url_env";
  static final String STARTTLS = "starttls";
  static final String USERNAME = "username";
  static final String USERNAME_ENV = "username_env";
  static final String PASSWORD_ENV = "password_env";
  /** Refused with a fix: a password is never written in the file. */
  static final String PASSWORD = "password";
  static final String CONNECT_TIMEOUT_MS = "connect_timeout_ms";
  static final String READ_TIMEOUT_MS = "read_timeout_ms";
  static final String WRITE_TIMEOUT_MS = "write_timeout_ms";

  static final Set<String> KEYS = Set.of(SMTP_URL, SMTP_URL_ENV, STARTTLS, USERNAME, USERNAME_ENV, PASSWORD_ENV,
      PASSWORD, CONNECT_TIMEOUT_MS, READ_TIMEOUT_MS, WRITE_TIMEOUT_MS);

  static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
  static final Duration DEFAULT_READ_TIMEOUT = Duration.ofSeconds(30);
  static final Duration DEFAULT_WRITE_TIMEOUT = Duration.ofSeconds(30);
  /** The longest timeout accepted (1 hour): every wait on the server stays bounded. */
  static final long MAX_TIMEOUT_MS = 3_600_000L;

  /** How STARTTLS is used on {@code smtp://}. */
  enum StartTls {
    /** Upgrade or fail: the message and credentials never travel in clear. */
    REQUIRED,
    /** Upgrade when the server offers it, else continue in clear. */
    OPTIONAL,
    /** Never upgrade. */
    OFF
  }

  private final String protocol;
  private final String host;
  private final int port;
  private final StartTls startTls;
  private final String username;
  private final String password;
  private final Duration connectTimeout;
  private final Duration readTimeout;
  private final Duration writeTimeout;
  private final List<String> secrets;

  private SmtpServer(String protocol, String host, int port, StartTls startTls, String username, String password,
      Duration connectTimeout, Duration readTimeout, Duration writeTimeout, List<String> secrets) {
    this.protocol = protocol;
    this.host = host;
    this.port = port;
    this.startTls = startTls;
    this.username = username;
    this.password = password;
    this.connectTimeout = connectTimeout;
    this.readTimeout = readTimeout;
    this.writeTimeout = writeTimeout;
    this.secrets = List.copyOf(secrets);
  }

  static ObserverConfigException problem(Settings s, String key, String message, String fix) {
    return new ObserverConfigException(new ConfigProblem(s.location(key), key, message, fix));
  }

  /**
   * Reads and checks every server key of a handler.
   *
   * @throws ObserverConfigException with every problem found; messages name keys and variables, never values
   */
  static SmtpServer read(ActionContext ctx) {
    Settings s = ctx.settings();
    String handler = ctx.handlerName();
    Problems p = new Problems();
    URI uri = p.check(() -> url(ctx), null);
    String protocol = uri == null ? "smtp" : uri.getScheme().toLowerCase(Locale.ROOT);

    // credentials: from the URL's user-info, or the *_env keys
    String urlUser = null;
    String urlPassword = null;
    if (uri != null && uri.getRawUserInfo() != null) {
      String info = uri.getRawUserInfo();
      int colon = info.indexOf(':');
      urlUser = decode(colon < 0 ? info : info.substring(0, colon));
      urlPassword = colon < 0 ? null : decode(info.substring(colon + 1));
    }
    if (s.has(PASSWORD)) {
      p.check(() -> {
        throw problem(s, PASSWORD, "handler " + handler + " writes its SMTP password in the configuration",
            "put the password in an environment variable and name it: password_env = \"SMTP_PASSWORD\"");
      }, null);
    }
    String fromUrlUser = urlUser;
    String username = p.check(() -> {
      if (s.has(USERNAME) && s.has(USERNAME_ENV)) {
        throw problem(s, USERNAME_ENV, "handler " + handler + " sets both username and username_env",
            "keep one: username = \"mailer\" or username_env = \"SMTP_USERNAME\"");
      }
      if (fromUrlUser != null && (s.has(USERNAME) || s.has(USERNAME_ENV))) {
        String key = s.has(USERNAME) ? USERNAME : USERNAME_ENV;
        throw problem(s, key, "handler " + handler + " names its SMTP user both in the URL and in " + key,
            "keep one of them");
      }
      if (s.has(USERNAME)) {
        String u = s.string(USERNAME).orElseThrow();
        if (u.isBlank()) {
          throw problem(s, USERNAME, "username of handler " + handler + " is empty", "remove it or give the SMTP user");
        }
        return u;
      }
      if (s.has(USERNAME_ENV)) {
        return env(ctx, USERNAME_ENV, "the SMTP user name");
      }
      return fromUrlUser;
    }, null);
    String fromUrlPassword = urlPassword;
    String password = p.check(() -> {
      if (s.has(PASSWORD_ENV)) {
        if (fromUrlPassword != null) {
          throw problem(s, PASSWORD_ENV, "handler " + handler + " has a password both in its SMTP URL and in password_env",
              "remove the password from the URL");
        }
        return env(ctx, PASSWORD_ENV, "the SMTP password");
      }
      return fromUrlPassword;
    }, null);
    if (password != null && username == null && !s.has(USERNAME) && !s.has(USERNAME_ENV)) {
      p.check(() -> {
        throw problem(s, PASSWORD_ENV, "handler " + handler + " has an SMTP password but no user name",
            "add username = \"...\" or username_env = \"SMTP_USERNAME\"");
      }, null);
    }
    StartTls startTls = p.check(() -> startTls(s, handler, protocol, username != null), StartTls.OPTIONAL);
    Duration connect = p.check(() -> timeout(s, CONNECT_TIMEOUT_MS, DEFAULT_CONNECT_TIMEOUT, handler), DEFAULT_CONNECT_TIMEOUT);
    Duration read = p.check(() -> timeout(s, READ_TIMEOUT_MS, DEFAULT_READ_TIMEOUT, handler), DEFAULT_READ_TIMEOUT);
    Duration write = p.check(() -> timeout(s, WRITE_TIMEOUT_MS, DEFAULT_WRITE_TIMEOUT, handler), DEFAULT_WRITE_TIMEOUT);
    p.throwIfAny(ctx.config().source());

    List<String> secrets = new ArrayList<>();
    if (password != null) {
      secrets.add(password);
      Base64.Encoder b64 = Base64.getEncoder();
      secrets.add(b64.encodeToString(password.getBytes(StandardCharsets.UTF_8)));          // AUTH LOGIN
      if (username != null) {
        // AUTH PLAIN, without and with the authorization id (Jakarta Mail sends the user name there)
        secrets.add(b64.encodeToString(("\0" + username + "\0" + password).getBytes(StandardCharsets.UTF_8)));
        secrets.add(b64.encodeToString((username + "\0" + username + "\0" + password).getBytes(StandardCharsets.UTF_8)));
      }
    }
    if (uri.getRawUserInfo() != null) {
      secrets.add(uri.getRawUserInfo());
    }
    int port = uri.getPort() > 0 ? uri.getPort() : protocol.equals("smtps") ? 465 : 25;
    return new SmtpServer(protocol, uri.getHost(), port, startTls, username, password, connect, read, write, secrets);
  }

  private static URI url(ActionContext ctx) {
    Settings s = ctx.settings();
    String handler = ctx.handlerName();
    if (s.has(SMTP_URL) && s.has(SMTP_URL_ENV)) {
      throw problem(s, SMTP_URL_ENV, "handler " + handler + " sets both smtp_url and smtp_url_env",
          "keep one: smtp_url_env names a variable holding the URL, smtp_url is the URL itself");
    }
    String raw;
    String key;
    if (s.has(SMTP_URL_ENV)) {
      key = SMTP_URL_ENV;
      raw = env(ctx, SMTP_URL_ENV, "the SMTP server URL (smtp://host:587 or smtps://host:465)");
    } else if (s.has(SMTP_URL)) {
      key = SMTP_URL;
      raw = s.string(SMTP_URL).orElseThrow();
    } else {
      throw new ObserverConfigException(new ConfigProblem(ctx.location(), SMTP_URL, "handler " + handler
          + " (action = \"email\") has no SMTP server", "add smtp_url = \"smtp://mail.example.com:587\" "
          + "(${VAR} allowed) or smtp_url_env = \"SMTP_URL\""));
    }
    String fix = "write smtp://host:port (STARTTLS per `starttls`) or smtps://host:port (TLS from the start)";
    URI uri;
    try {
      uri = new URI(raw.trim());
    } catch (URISyntaxException e) {
      throw problem(s, key, "the SMTP URL of handler " + handler + " is not a valid URL (" + e.getReason().replace(raw, "…")
          + " at index " + e.getIndex() + ")", fix);
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("smtp") && !scheme.equals("smtps")) {
      throw problem(s, key, "the SMTP URL of handler " + handler + " must be smtp or smtps, not "
          + (scheme.isEmpty() ? "a URL without a scheme" : "`" + scheme + "`"), fix);
    }
    if (uri.getHost() == null || uri.getHost().isEmpty()) {
      throw problem(s, key, "the SMTP URL of handler " + handler + " has no host", fix);
    }
    if ((uri.getRawPath() != null && !uri.getRawPath().isEmpty() && !uri.getRawPath().equals("/"))
        || uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw problem(s, key, "the SMTP URL of handler " + handler + " has a path, query or fragment",
          "write only smtp://host:port; options are keys of the handler (starttls, connect_timeout_ms ...)");
    }
    return uri;
  }

  private static String env(ActionContext ctx, String key, String what) {
    Settings s = ctx.settings();
    String name = s.string(key).orElseThrow().trim();
    if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
      throw problem(s, key, "`" + key + "` of handler " + ctx.handlerName() + " must name an environment variable",
          "write " + key + " = \"VARIABLE_NAME\"");
    }
    Optional<String> value = ctx.env().apply(name);
    if (value == null || value.isEmpty() || value.get().isEmpty()) {
      throw problem(s, key, "environment variable " + name + " (named by `" + key + "` of handler "
          + ctx.handlerName() + ") is not set", "set " + name + " to " + what);
    }
    return value.get();
  }

  private static StartTls startTls(Settings s, String handler, String protocol, boolean credentials) {
    Optional<String> v = s.string(STARTTLS).map(x -> x.trim().toLowerCase(Locale.ROOT));
    if (protocol.equals("smtps")) {
      if (v.isPresent()) {
        throw problem(s, STARTTLS, "starttls is set on handler " + handler + ", whose smtps:// URL is TLS from the first byte",
            "remove starttls, or use smtp:// with starttls = \"required\"");
      }
      return StartTls.OFF;
    }
    if (v.isEmpty()) {
      return credentials ? StartTls.REQUIRED : StartTls.OPTIONAL;
    }
    switch (v.get()) {
      case "required":
        return StartTls.REQUIRED;
      case "optional":
        return StartTls.OPTIONAL;
      case "off":
        return StartTls.OFF;
      default:
        throw problem(s, STARTTLS, "starttls of handler " + handler + " is `" + v.get() + "`",
            "use \"required\", \"optional\" or \"off\"");
    }
  }

  private static Duration timeout(Settings s, String key, Duration dflt, String handler) {
    Duration d = s.millis(key, dflt);
    if (d.isZero() || d.toMillis() > MAX_TIMEOUT_MS) {
      throw problem(s, key, key + " of handler " + handler + " is " + d.toMillis() + (d.isZero() ? " (no timeout)" : ""),
          "give a number of milliseconds from 1 to " + MAX_TIMEOUT_MS + " (default " + dflt.toMillis() + ")");
    }
    return d;
  }

  private static String decode(String s) {
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  /** The Jakarta Mail session properties: host, port, TLS, authentication and the three timeouts. */
  Properties properties() {
    Properties p = new Properties();
    String pre = "mail." + protocol + ".";
    p.setProperty("mail.transport.protocol", protocol);
    p.setProperty(pre + "host", host);
    p.setProperty(pre + "port", Integer.toString(port));
    p.setProperty(pre + "connectiontimeout", Long.toString(connectTimeout.toMillis()));
    p.setProperty(pre + "timeout", Long.toString(readTimeout.toMillis()));
    p.setProperty(pre + "writetimeout", Long.toString(writeTimeout.toMillis()));
    p.setProperty(pre + "auth", Boolean.toString(username != null));
    p.setProperty(pre + "starttls.enable", Boolean.toString(startTls != StartTls.OFF));
    p.setProperty(pre + "starttls.required", Boolean.toString(startTls == StartTls.REQUIRED));
    p.setProperty(pre + "ssl.checkserveridentity", "true");
    // one message per connection; a rejected recipient fails the message (nothing is sent to the others)
    p.setProperty(pre + "sendpartial", "false");
    p.setProperty(pre + "quitwait", "false");
    return p;
  }

  String protocol() {
    return protocol;
  }

  String host() {
    return host;
  }

  int port() {
    return port;
  }

  StartTls startTls() {
    return startTls;
  }

  Optional<String> username() {
    return Optional.ofNullable(username);
  }

  /** For {@code Transport.connect} only. */
  String password() {
    return password;
  }

  Duration connectTimeout() {
    return connectTimeout;
  }

  Duration readTimeout() {
    return readTimeout;
  }

  /** Strings to keep out of every log line, attempt record and message. */
  List<String> secrets() {
    return secrets;
  }

  /** {@code smtp://mail.example.com:587 (STARTTLS required, as mailer)}: no password, ever. */
  String redacted() {
    return protocol + "://" + host + ":" + port
        + (protocol.equals("smtps") ? "" : " (STARTTLS " + startTls.name().toLowerCase(Locale.ROOT) + ")");
  }

  @Override
  public String toString() {
    return "SmtpServer{" + redacted() + (username != null ? ", user " + username + ", password ***" : "") + "}";
  }
}
