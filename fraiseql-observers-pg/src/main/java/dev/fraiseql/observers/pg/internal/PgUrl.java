package dev.fraiseql.observers.pg.internal;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Properties;

/**
 * A parsed {@code database_url}: {@code postgres://user:pass@host:port/db?sslmode=require},
 * {@code postgresql://...} or {@code jdbc:postgresql://...}. {@link #toString()} and
 * {@link #redacted()} never show the user, the password or the query string.
 */
public final class PgUrl {
  private final String jdbcUrl;
  private final Properties properties;
  private final String redacted;

  private PgUrl(String jdbcUrl, Properties properties, String redacted) {
    this.jdbcUrl = jdbcUrl;
    this.properties = properties;
    this.redacted = redacted;
  }

  /**
   * Parses a URL.
   *
   * @throws IllegalArgumentException with a message that never contains the URL's credentials
   */
  public static PgUrl parse(String url) {
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException("the database URL is empty");
    }
    String u = url.trim();
    if (u.startsWith("jdbc:postgresql:")) {
      String rest = u.substring("jdbc:".length());
      return new PgUrl(u, new Properties(), redact(rest));
    }
    if (!(u.startsWith("postgres://") || u.startsWith("postgresql://"))) {
      throw new IllegalArgumentException("the database URL must start with postgres://, postgresql:// or"
          + " jdbc:postgresql://");
    }
    URI uri;
    try {
      uri = new URI(u);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("the database URL is not a valid URL (" + e.getReason() + ")");
    }
    String host = uri.getHost();
    if (host == null || host.isEmpty()) {
      throw new IllegalArgumentException("the database URL has no host");
    }
    Properties props = new Properties();
    String userInfo = uri.getRawUserInfo();
    if (userInfo != null && !userInfo.isEmpty()) {
      int colon = userInfo.indexOf(':');
      String user = colon >= 0 ? userInfo.substring(0, colon) : userInfo;
      props.setProperty("user", URLDecoder.decode(user, StandardCharsets.UTF_8));
      if (colon >= 0) {
        props.setProperty("password", URLDecoder.decode(userInfo.substring(colon + 1), StandardCharsets.UTF_8));
      }
    }
    String hostPart = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
    int port = uri.getPort() > 0 ? uri.getPort() : 5432;
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    String query = uri.getRawQuery();
    String jdbc = "jdbc:postgresql://" + hostPart + ":" + port + path + (query == null ? "" : "?" + query);
    return new PgUrl(jdbc, props, "postgresql://" + hostPart + ":" + port + path);
  }

  private static String redact(String postgresqlUrl) {
    // postgresql://host:port/db?user=..&password=..  → postgresql://host:port/db
    String s = postgresqlUrl;
    int q = s.indexOf('?');
    if (q >= 0) {
      s = s.substring(0, q);
    }
    int scheme = s.indexOf("//");
    int at = s.lastIndexOf('@');
    if (scheme >= 0 && at > scheme) {
      s = s.substring(0, scheme + 2) + s.substring(at + 1);
    }
    return s;
  }

  public String jdbcUrl() {
    return jdbcUrl;
  }

  /** A copy of the connection properties (user, password) taken from the URL. */
  public Properties properties() {
    Properties p = new Properties();
    p.putAll(properties);
    return p;
  }

  /** {@code postgresql://host:port/db}: safe for logs. */
  public String redacted() {
    return redacted;
  }

  @Override
  public String toString() {
    return redacted;
  }
}
