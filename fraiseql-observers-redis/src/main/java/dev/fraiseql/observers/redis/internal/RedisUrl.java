package dev.fraiseql.observers.redis.internal;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.config.ConfigLocation;
import dev.fraiseql.observers.config.ConfigProblem;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * A parsed {@code redis://} / {@code rediss://} URL. Credentials are kept out of every rendering:
 * {@link #toString()} and {@link #redacted()} show {@code redis://***@host:port/db}.
 */
public final class RedisUrl {
  private final String host;
  private final int port;
  private final boolean tls;
  private final String user;
  private final String password;
  private final int database;

  private RedisUrl(String host, int port, boolean tls, String user, String password, int database) {
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
          "write it as redis://host:6379 (rediss:// for TLS)");
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

  /** {@code redis://***@host:port/db}: safe to log. */
  public String redacted() {
    return (tls ? "rediss://" : "redis://") + (user != null || password != null ? "***@" : "") + host + ":" + port
        + (database != 0 ? "/" + database : "");
  }

  @Override
  public String toString() {
    return redacted();
  }
}
