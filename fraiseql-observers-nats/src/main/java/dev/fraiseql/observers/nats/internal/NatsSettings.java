package dev.fraiseql.observers.nats.internal;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.config.ConfigProblem;
import dev.fraiseql.observers.config.ConfigUrls;
import dev.fraiseql.observers.config.Settings;
import io.nats.client.api.StorageType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The validated settings of the NATS backend: {@code nats_url} from {@code [observers]} and the keys
 * of {@code [observers.nats]}. {@link #toString()} never shows a secret.
 */
public final class NatsSettings {
  public static final String DEFAULT_URL = "nats://localhost:4222";
  public static final String DEFAULT_STREAM = "FRAISEQL";
  public static final List<String> DEFAULT_SUBJECTS = List.of("fraiseql.>");
  public static final Duration DEFAULT_DUPLICATE_WINDOW = Duration.ofMinutes(2);
  public static final int DEFAULT_PUBLISH_WINDOW = 1024;
  public static final Duration DEFAULT_PUBLISH_TIMEOUT = Duration.ofSeconds(5);
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(2);
  public static final Duration DEFAULT_RECONNECT_WAIT = Duration.ofSeconds(1);
  public static final int DEFAULT_FETCH_BATCH = 64;
  public static final Duration DEFAULT_FETCH_WAIT = Duration.ofSeconds(1);

  /** Every key this backend reads. */
  public static final Set<String> KEYS = Set.copyOf(new LinkedHashSet<>(Arrays.asList(
      "nats_url", "stream", "subjects", "auto_create_stream", "storage", "duplicate_window_ms", "max_age_ms",
      "max_msgs", "max_bytes", "replicas", "credentials_file", "token_env", "user", "password_env", "tls",
      "tls_ca_file", "publish_window", "publish_timeout_ms", "connect_timeout_ms", "reconnect_wait_ms",
      "ack_wait_ms", "fetch_batch", "fetch_wait_ms", "idempotency_bucket")));

  final List<String> servers;
  final String stream;
  final List<String> subjects;
  final boolean autoCreateStream;
  final StorageType storage;
  final Duration duplicateWindow;
  final Duration maxAge;
  final long maxMsgs;
  final long maxBytes;
  final int replicas;
  final Optional<Path> credentialsFile;
  final Optional<char[]> token;
  final Optional<String> user;
  final Optional<char[]> password;
  final boolean tls;
  final Optional<Path> tlsCaFile;
  final Optional<SSLContext> sslContext;
  final int publishWindow;
  final Duration publishTimeout;
  final Duration connectTimeout;
  final Duration reconnectWait;
  final Optional<Duration> ackWait;
  final int fetchBatch;
  final Duration fetchWait;
  final Optional<String> idempotencyBucket;
  /** How {@code nats_url} may be shown when it came from {@code ${VAR}} ({@code ${NATS_URL}}), else null. */
  private final String shownServers;

  private NatsSettings(Builder b) {
    shownServers = b.shownServers;
    servers = List.copyOf(b.servers);
    stream = b.stream;
    subjects = List.copyOf(b.subjects);
    autoCreateStream = b.autoCreateStream;
    storage = b.storage;
    duplicateWindow = b.duplicateWindow;
    maxAge = b.maxAge;
    maxMsgs = b.maxMsgs;
    maxBytes = b.maxBytes;
    replicas = b.replicas;
    credentialsFile = Optional.ofNullable(b.credentialsFile);
    token = Optional.ofNullable(b.token);
    user = Optional.ofNullable(b.user);
    password = Optional.ofNullable(b.password);
    tls = b.tls;
    tlsCaFile = Optional.ofNullable(b.tlsCaFile);
    sslContext = Optional.ofNullable(b.sslContext);
    publishWindow = b.publishWindow;
    publishTimeout = b.publishTimeout;
    connectTimeout = b.connectTimeout;
    reconnectWait = b.reconnectWait;
    ackWait = Optional.ofNullable(b.ackWait);
    fetchBatch = b.fetchBatch;
    fetchWait = b.fetchWait;
    idempotencyBucket = Optional.ofNullable(b.idempotencyBucket);
  }

  /**
   * Reads and validates the backend settings; every problem found is reported at once.
   *
   * @throws ObserverConfigException naming file, line, key and fix
   */
  public static NatsSettings parse(Settings raw, Function<String, Optional<String>> env) {
    Settings s = flatten(raw);
    // [observers] may also name other backends' servers (database_url for the pg stores, redis_url)
    Set<String> accepted = new LinkedHashSet<>(KEYS);
    accepted.addAll(List.of("database_url", "redis_url"));
    List<ConfigProblem> problems = new ArrayList<>(s.unknownKeys(accepted));
    Builder b = new Builder();
    collect(problems, () -> {
      ConfigUrls.require(s, "nats_url", ConfigUrls.NATS); // before jnats sees it: a config problem, not its exception
      b.shownServers = s.fromEnvironment("nats_url") ? s.shown("nats_url") : null;
      String url = s.string("nats_url").map(String::trim).orElse(DEFAULT_URL);
      if (url.isEmpty()) {
        url = DEFAULT_URL;
      }
      List<String> out = new ArrayList<>();
      for (String part : url.split(",")) {
        String p = part.trim();
        if (p.isEmpty()) {
          continue;
        }
        if (!p.contains("://")) {
          p = "nats://" + p;
        }
        String scheme = p.substring(0, p.indexOf("://")).toLowerCase();
        if (!Set.of("nats", "tls", "opentls", "ws", "wss").contains(scheme)) {
          throw problem(s, "nats_url", "`nats_url` has scheme `" + scheme + "`, which NATS does not speak",
              "write it as nats://host:4222 (or tls://host:4222); several servers are separated by commas");
        }
        out.add(p);
      }
      b.servers = out.isEmpty() ? List.of(DEFAULT_URL) : out;
    });
    collect(problems, () -> {
      b.stream = s.string("stream").orElse(DEFAULT_STREAM);
      if (b.stream.isEmpty() || b.stream.chars().anyMatch(c -> c == '.' || c == '*' || c == '>' || c <= ' ')) {
        throw problem(s, "stream", "`stream` must be a JetStream stream name without spaces, `.`, `*` or `>`",
            "use a name such as FRAISEQL or ORDERS");
      }
    });
    collect(problems, () -> {
      List<String> subjects = s.has("subjects") ? s.stringList("subjects") : DEFAULT_SUBJECTS;
      if (subjects.isEmpty()) {
        throw problem(s, "subjects", "`subjects` is empty", "list at least one subject, such as [\"fraiseql.>\"]");
      }
      for (String subject : subjects) {
        if (!Subjects.isValid(subject, true)) {
          throw problem(s, "subjects", "`subjects` contains `" + subject + "`, which is not a NATS subject",
              "use dot-separated tokens without spaces; `*` matches one token, `>` the rest (fraiseql.>)");
        }
      }
      b.subjects = subjects;
    });
    collect(problems, () -> b.autoCreateStream = s.bool("auto_create_stream", true));
    collect(problems, () -> {
      String storage = s.string("storage").orElse("file").toLowerCase();
      if (storage.equals("file")) {
        b.storage = StorageType.File;
      } else if (storage.equals("memory")) {
        b.storage = StorageType.Memory;
      } else {
        throw problem(s, "storage", "`storage` is `" + storage + "`", "use \"file\" (survives restarts) or \"memory\"");
      }
    });
    collect(problems, () -> {
      b.duplicateWindow = s.millis("duplicate_window_ms", DEFAULT_DUPLICATE_WINDOW);
      if (b.duplicateWindow.isZero()) {
        throw problem(s, "duplicate_window_ms", "`duplicate_window_ms` is 0: de-duplication would be off",
            "give it a window longer than your handlers' retry horizon (default 120000)");
      }
    });
    collect(problems, () -> b.maxAge = s.millis("max_age_ms", Duration.ZERO));
    collect(problems, () -> b.maxMsgs = limit(s, "max_msgs"));
    collect(problems, () -> b.maxBytes = limit(s, "max_bytes"));
    collect(problems, () -> b.replicas = s.intValue("replicas", 1, 1, 5));
    collect(problems, () -> {
      Optional<String> file = s.string("credentials_file");
      if (file.isPresent()) {
        Path p = Path.of(file.get());
        if (!Files.isReadable(p)) {
          throw problem(s, "credentials_file", "`credentials_file` " + p + " cannot be read",
              "point it at the .creds file of your NATS user (nsc generate creds)");
        }
        b.credentialsFile = p;
      }
    });
    collect(problems, () -> b.token = secret(s, env, "token_env"));
    collect(problems, () -> b.user = s.string("user").filter(u -> !u.isEmpty()).orElse(null));
    collect(problems, () -> b.password = secret(s, env, "password_env"));
    if (b.password != null && b.user == null) {
      problems.add(new ConfigProblem(s.location("password_env"), "password_env",
          "`password_env` is set but `user` is not", "set `user` too, or remove `password_env`"));
    }
    if (b.token != null && b.user != null) {
      problems.add(new ConfigProblem(s.location("token_env"), "token_env",
          "both `token_env` and `user` are set", "a NATS server takes either a token or a user and password: keep one"));
    }
    collect(problems, () -> b.tls = s.bool("tls", false));
    collect(problems, () -> {
      Optional<String> file = s.string("tls_ca_file");
      if (file.isPresent()) {
        Path p = Path.of(file.get());
        if (!Files.isReadable(p)) {
          throw problem(s, "tls_ca_file", "`tls_ca_file` " + p + " cannot be read",
              "point it at the PEM file of the CA that signed the server's certificate");
        }
        b.tlsCaFile = p;
        b.sslContext = trusting(s, p);
      }
    });
    collect(problems, () -> b.publishWindow = s.intValue("publish_window", DEFAULT_PUBLISH_WINDOW, 1, 1_000_000));
    collect(problems, () -> b.publishTimeout = positive(s, "publish_timeout_ms", DEFAULT_PUBLISH_TIMEOUT));
    collect(problems, () -> b.connectTimeout = positive(s, "connect_timeout_ms", DEFAULT_CONNECT_TIMEOUT));
    collect(problems, () -> b.reconnectWait = positive(s, "reconnect_wait_ms", DEFAULT_RECONNECT_WAIT));
    collect(problems, () -> b.ackWait = s.has("ack_wait_ms") ? positive(s, "ack_wait_ms", null) : null);
    collect(problems, () -> b.fetchBatch = s.intValue("fetch_batch", DEFAULT_FETCH_BATCH, 1, 10_000));
    collect(problems, () -> {
      b.fetchWait = positive(s, "fetch_wait_ms", DEFAULT_FETCH_WAIT);
      if (b.fetchWait.toMillis() < 100 || b.fetchWait.toMillis() > 30_000) {
        throw problem(s, "fetch_wait_ms", "`fetch_wait_ms` is " + b.fetchWait.toMillis() + ", out of range",
            "use a value from 100 to 30000 (it bounds how long closing a subscription waits for a fetch)");
      }
    });
    collect(problems, () -> {
      Optional<String> bucket = s.string("idempotency_bucket");
      if (bucket.isPresent()) {
        if (!bucket.get().matches("[A-Za-z0-9_-]+")) {
          throw problem(s, "idempotency_bucket", "`idempotency_bucket` is `" + bucket.get() + "`",
              "use letters, digits, `_` and `-` only, such as fraiseql_idempotency");
        }
        b.idempotencyBucket = bucket.get();
      }
    });
    if (!problems.isEmpty()) {
      throw new ObserverConfigException(problems.get(0).location().file(), problems);
    }
    return new NatsSettings(b);
  }

  /** Accepts the backend table nested as {@code nats = {...}} as well as flattened keys. */
  private static Settings flatten(Settings s) {
    if (!s.has("nats") || !(s.value("nats").orElse(null) instanceof Settings)) {
      return s;
    }
    Settings nested = s.table("nats").orElseThrow();
    Settings.Builder b = s.without("nats").toBuilder();
    for (String k : nested.keys()) {
      b.put(k, nested.value(k).orElseThrow(), nested.location(k));
    }
    return b.build();
  }

  private static SSLContext trusting(Settings s, Path caFile) {
    try (InputStream in = Files.newInputStream(caFile)) {
      KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
      ks.load(null, null);
      int i = 0;
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        ks.setCertificateEntry("ca-" + i++, c);
      }
      if (i == 0) {
        throw new GeneralSecurityException("it holds no certificate");
      }
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, tmf.getTrustManagers(), null);
      return ctx;
    } catch (IOException | GeneralSecurityException e) {
      throw problem(s, "tls_ca_file", "`tls_ca_file` " + caFile + " is not a PEM certificate file (" + e.getMessage() + ")",
          "point it at the PEM file of the CA that signed the server's certificate");
    }
  }

  private static long limit(Settings s, String key) {
    long v = s.longValue(key, -1);
    if (v == 0 || v < -1) {
      throw problem(s, key, "`" + key + "` is " + v, "give a positive limit, or -1 (the default) for none");
    }
    return v;
  }

  private static Duration positive(Settings s, String key, Duration dflt) {
    Duration d = s.millis(key, dflt);
    if (d != null && d.isZero()) {
      throw problem(s, key, "`" + key + "` is 0", "give a positive number of milliseconds");
    }
    return d;
  }

  private static char[] secret(Settings s, Function<String, Optional<String>> env, String key) {
    Optional<String> var = s.string(key);
    if (var.isEmpty()) {
      return null;
    }
    Optional<String> value = env.apply(var.get());
    if (value.isEmpty() || value.get().isEmpty()) {
      throw problem(s, key, "environment variable " + var.get() + " named by `" + key + "` is not set",
          "set " + var.get() + " in the environment of this process, or remove `" + key + "`");
    }
    return value.get().toCharArray();
  }

  private static ObserverConfigException problem(Settings s, String key, String message, String fix) {
    return new ObserverConfigException(new ConfigProblem(s.location(key), key, message, fix));
  }

  private static void collect(List<ConfigProblem> problems, Runnable step) {
    try {
      step.run();
    } catch (ObserverConfigException e) {
      problems.addAll(e.problems());
    }
  }

  /**
   * The servers, with any user, password or token in them replaced by {@code ***}; as written
   * ({@code ${NATS_URL}}) when {@code nats_url} came from the environment.
   */
  public String redactedServers() {
    if (shownServers != null) {
      return shownServers;
    }
    return String.join(",", servers.stream().map(Redact::url).toList());
  }

  /**
   * {@code text} (a jnats message) without the servers' host names when {@code nats_url} came from the
   * environment: they are part of the variable's value ({@code nats://***:4222}).
   */
  public String scrub(String text) {
    if (shownServers == null || text == null) {
      return text;
    }
    String out = text;
    for (String server : servers) {
      String host = java.net.URI.create(server).getHost();
      if (host != null && !host.isEmpty()) {
        out = out.replace(host, "***");
      }
    }
    return out;
  }

  @Override
  public String toString() {
    return "NatsSettings{servers=" + redactedServers() + ", stream=" + stream + ", subjects=" + subjects
        + ", autoCreateStream=" + autoCreateStream + ", storage=" + storage + ", duplicateWindow=" + duplicateWindow
        + ", auth=" + (credentialsFile.isPresent() ? "credentials file" : token.isPresent() ? "token"
        : user.isPresent() ? "user/password" : "none") + ", tls=" + (tls || tlsCaFile.isPresent())
        + ", publishWindow=" + publishWindow + "}";
  }

  private static final class Builder {
    List<String> servers = List.of(DEFAULT_URL);
    String stream = DEFAULT_STREAM;
    List<String> subjects = DEFAULT_SUBJECTS;
    boolean autoCreateStream = true;
    StorageType storage = StorageType.File;
    Duration duplicateWindow = DEFAULT_DUPLICATE_WINDOW;
    Duration maxAge = Duration.ZERO;
    long maxMsgs = -1;
    long maxBytes = -1;
    int replicas = 1;
    Path credentialsFile;
    char[] token;
    String user;
    char[] password;
    boolean tls;
    Path tlsCaFile;
    SSLContext sslContext;
    int publishWindow = DEFAULT_PUBLISH_WINDOW;
    Duration publishTimeout = DEFAULT_PUBLISH_TIMEOUT;
    Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    Duration reconnectWait = DEFAULT_RECONNECT_WAIT;
    Duration ackWait;
    int fetchBatch = DEFAULT_FETCH_BATCH;
    Duration fetchWait = DEFAULT_FETCH_WAIT;
    String idempotencyBucket;
    String shownServers;
  }
}
