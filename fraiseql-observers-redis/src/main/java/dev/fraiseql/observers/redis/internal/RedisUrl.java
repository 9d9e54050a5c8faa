package dev.fraiseql.observers.redis.internal;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.config.ConfigLocation;
import dev.fraiseql.observers.config.ConfigProblem;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A parsed {@code redis://} / {@code rediss://} URL, or a Sentinel URL
 * {@code redis-sentinel://[user:password@]sentinel1:26379,sentinel2:26379/<master name>[/db]} (the
 * sentinels are asked for the current master; user and password are the master's). Credentials are kept
 * out of every rendering: {@link #toString()} and {@link #redacted()} show {@code redis://***@host:port/db}.
 */
public final class RedisUrl {
  private final String host;
  private final int port;
  private final boolean tls;
  private final String user;
  private final String password;
  private final int database;
  /** host:port of each sentinel; empty for a single server. */
  private final List<String> sentinels;
  private final String masterName;

  private RedisUrl(String host, int port, boolean tls, String user, String password, int database) {
    this(host, port, tls, user, password, database, List.of(), null);
  }

  private RedisUrl(String host, int port, boolean tls, String user, String password, int database,
      List<String> sentinels, String masterName) {
    this.sentinels = List.copyOf(sentinels);
    this.masterName = masterName;
    this.host = host;
    this.port = port;
    this.tls = tls;
    this.user = user;
    this.password = password;
    this.database = database;
  }

  /**
   * Parses {@code raw}.
   *
   * @throws ObserverConfigException naming {@code key} and its location, never the value's secrets
   */
  public static RedisUrl parse(String raw, String key, ConfigLocation at) {
    String value = raw.trim();
    String lower = value.toLowerCase(java.util.Locale.ROOT);
    if (lower.startsWith("redis-sentinel://") || lower.startsWith("rediss-sentinel://")) {
      return sentinel(value, key, at);
    }
    if (lower.startsWith("redis-cluster://") || lower.startsWith("rediss-cluster://")) {
      throw problem(at, key, "`" + key + "` names a Redis Cluster, which the redis backend does not support yet",
          "point it at one master (redis://host:6379), at a Sentinel-watched master "
              + "(redis-sentinel://sentinel1:26379,sentinel2:26379/mymaster), or use backend = \"nats\" with a "
              + "replicated stream");
    }
    if ((lower.startsWith("redis://") || lower.startsWith("rediss://")) && authority(value).contains(",")) {
      throw problem(at, key, "`" + key + "` lists several servers; a redis:// URL names one",
          "for a Sentinel-watched master write redis-sentinel://sentinel1:26379,sentinel2:26379/<master name>; "
              + "Redis Cluster is not supported yet");
    }
    URI uri;
    try {
      uri = new URI(value);
    } catch (URISyntaxException e) {
      throw problem(at, key, "`" + key + "` is not a valid URL (" + e.getReason() + ")",
          "write it as redis://[user:password@]host:port[/db] or rediss://... for TLS; percent-encode"
              + " special characters in the password (@ as %40, : as %3A)");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
    if (!scheme.equals("redis") && !scheme.equals("rediss")) {
      throw problem(at, key, "`" + key + "` must start with redis:// or rediss://"
          + (scheme.isEmpty() ? "" : ", not " + scheme + "://"),
          "write it as redis://host:6379 (rediss:// for TLS), or redis-sentinel://sentinel1:26379,sentinel2:26379/<master name>");
    }
    if (uri.getHost() == null || uri.getHost().isEmpty()) {
      throw problem(at, key, "`" + key + "` has no host", "write it as " + scheme + "://host:6379");
    }
    if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw problem(at, key, "`" + key + "` has a query string or fragment, which the redis backend does not read",
          "remove it; set timeouts and pool sizes in [observers.redis]");
    }
    String user = null;
    String password = null;
    String info = uri.getRawUserInfo();
    if (info != null && !info.isEmpty()) {
      int colon = info.indexOf(':');
      if (colon < 0) {
        // redis://secret@host: a lone user-info part is the password (Redis < 6 AUTH form)
        password = decode(info);
      } else {
        String u = decode(info.substring(0, colon));
        user = u.isEmpty() ? null : u;
        password = decode(info.substring(colon + 1));
      }
    }
    int db = 0;
    String path = uri.getPath();
    if (path != null && path.length() > 1) {
      String d = path.substring(1);
      try {
        db = Integer.parseInt(d);
      } catch (NumberFormatException e) {
        db = -1;
      }
      if (db < 0) {
        throw problem(at, key, "`" + key + "` names database `" + d + "`, not a number",
            "end the URL with /0 ... /15, or leave the path out for database 0");
      }
    }
    int port = uri.getPort() > 0 ? uri.getPort() : 6379;
    return new RedisUrl(uri.getHost(), port, scheme.equals("rediss"), user, password, db);
  }

  private static String authority(String value) {
    String rest = value.substring(value.indexOf("://") + 3);
    int slash = rest.indexOf('/');
    return slash < 0 ? rest : rest.substring(0, slash);
  }

  /** {@code redis-sentinel://[user:password@]h1:p1,h2:p2/<master>[/db]}. */
  private static RedisUrl sentinel(String value, String key, ConfigLocation at) {
    String form = "redis-sentinel://[user:password@]sentinel1:26379,sentinel2:26379/<master name>[/db]";
    boolean tls = value.toLowerCase(java.util.Locale.ROOT).startsWith("rediss-");
    String rest = value.substring(value.indexOf("://") + 3);
    if (rest.contains("?") || rest.contains("#")) {
      throw problem(at, key, "`" + key + "` has a query string or fragment, which the redis backend does not read",
          "remove it; write it as " + form);
    }
    int slash = rest.indexOf('/');
    String auth = slash < 0 ? rest : rest.substring(0, slash);
    String path = slash < 0 ? "" : rest.substring(slash + 1);
    String user = null;
    String password = null;
    int at2 = auth.lastIndexOf('@');
    if (at2 >= 0) {
      String info = auth.substring(0, at2);
      auth = auth.substring(at2 + 1);
      int colon = info.indexOf(':');
      if (colon < 0) {
        password = decode(info);
      } else {
        String u = decode(info.substring(0, colon));
        user = u.isEmpty() ? null : u;
        password = decode(info.substring(colon + 1));
      }
    }
    List<String> sentinels = new ArrayList<>();
    for (String part : auth.split(",")) {
      String p = part.trim();
      if (p.isEmpty()) {
        continue;
      }
      int colon = p.lastIndexOf(':');
      String host = colon < 0 ? p : p.substring(0, colon);
      int port = 26379;
      if (colon >= 0) {
        try {
          port = Integer.parseInt(p.substring(colon + 1));
        } catch (NumberFormatException e) {
          port = -1;
        }
      }
      if (host.isEmpty() || port <= 0 || port > 65535) {
        throw problem(at, key, "`" + key + "` has sentinel `" + p + "`, not host:port", "write it as " + form);
      }
      sentinels.add(host + ":" + port);
    }
    if (sentinels.isEmpty()) {
      throw problem(at, key, "`" + key + "` names no sentinel", "write it as " + form);
    }
    String[] segments = path.isEmpty() ? new String[0] : path.split("/");
    if (segments.length == 0 || segments[0].isEmpty()) {
      throw problem(at, key, "`" + key + "` names no master: Sentinel watches masters by name",
          "end the URL with the master name of `sentinel monitor <name> ...`: " + form);
    }
    if (segments.length > 2) {
      throw problem(at, key, "`" + key + "` has more path segments than /<master name>/<db>", "write it as " + form);
    }
    int db = 0;
    if (segments.length == 2) {
      try {
        db = Integer.parseInt(segments[1]);
      } catch (NumberFormatException e) {
        db = -1;
      }
      if (db < 0) {
        throw problem(at, key, "`" + key + "` names database `" + segments[1] + "`, not a number",
            "end the URL with /<master name>/0 ... /15, or leave the database out for 0");
      }
    }
    String first = sentinels.get(0);
    return new RedisUrl(first.substring(0, first.lastIndexOf(':')),
        Integer.parseInt(first.substring(first.lastIndexOf(':') + 1)), tls, user, password, db, sentinels,
        decode(segments[0]));
  }

  private static String decode(String s) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%' && i + 2 < s.length()) {
        try {
          out.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
          i += 2;
          continue;
        } catch (NumberFormatException e) {
          // not an escape: keep the '%' literally
        }
      }
      byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
      out.write(b, 0, b.length);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private static ObserverConfigException problem(ConfigLocation at, String key, String message, String fix) {
    return new ObserverConfigException(new ConfigProblem(at, key, message, fix));
  }

  public String host() {
    return host;
  }

  public int port() {
    return port;
  }

  public boolean tls() {
    return tls;
  }

  public Optional<String> user() {
    return Optional.ofNullable(user);
  }

  public Optional<String> password() {
    return Optional.ofNullable(password);
  }

  public int database() {
    return database;
  }

  /** Whether this names a Sentinel-watched master ({@code redis-sentinel://}). */
  public boolean sentinel() {
    return !sentinels.isEmpty();
  }

  /** The sentinels as {@code host:port}; empty for a single server. */
  public List<String> sentinels() {
    return sentinels;
  }

  /** The master name Sentinel watches; present for {@code redis-sentinel://} only. */
  public Optional<String> masterName() {
    return Optional.ofNullable(masterName);
  }

  /** {@code redis://***@host:port/db}: safe to log. */
  public String redacted() {
    if (sentinel()) {
      return (tls ? "rediss-sentinel://" : "redis-sentinel://") + (user != null || password != null ? "***@" : "")
          + String.join(",", sentinels) + "/" + masterName + (database != 0 ? "/" + database : "");
    }
    return (tls ? "rediss://" : "redis://") + (user != null || password != null ? "***@" : "") + host + ":" + port
        + (database != 0 ? "/" + database : "");
  }

  @Override
  public String toString() {
    return redacted();
  }
}
