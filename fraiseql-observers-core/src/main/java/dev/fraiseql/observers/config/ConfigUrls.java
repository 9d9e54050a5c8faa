package dev.fraiseql.observers.config;

import dev.fraiseql.observers.ObserverConfigException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The one check of every URL key: {@code nats_url}, {@code redis_url}, {@code database_url},
 * {@code webhook_url} / {@code url_env} (a webhook's or Slack's {@code url}). The loader runs it on
 * every URL key it reads, so a bad URL is an {@link ObserverConfigException} at load, with file, line,
 * key and fix; each transport module runs it again on its {@link Settings} (which may be built in
 * code), before its client library sees the value.
 *
 * <p>A URL is accepted when it is printable ASCII (no spaces, control, invisible or non-ASCII
 * characters: percent-encode those), parses as a URI, has one of the rule's schemes and a host name,
 * and a port from 1 to 65535 if it has one. Messages never show the value: they show
 * {@link Settings#shown(String)} ({@code ${NATS_URL}} for a value from the environment, credentials
 * hidden otherwise).
 */
public final class ConfigUrls {
  /** NATS servers: one URL or several separated by commas; a bare {@code host:port} means {@code nats://}. */
  public static final Rule NATS = new Rule("NATS", List.of("nats", "tls", "opentls", "ws", "wss"), "nats", true,
      "nats://host:4222 (tls://host:4222 for TLS); several servers are separated by commas");
  /** A Redis server, or a master watched by Sentinel ({@code redis-sentinel://s1:26379,s2:26379/<master>}). */
  public static final Rule REDIS = new Rule("Redis", List.of("redis", "rediss", "redis-sentinel", "rediss-sentinel"),
      null, false, "redis://[user:password@]host:6379[/db] (rediss:// for TLS; percent-encode @ and : in the password),"
      + " or redis-sentinel://sentinel1:26379,sentinel2:26379/<master name>[/db] for a master Sentinel watches");
  /** A PostgreSQL database, also in pgjdbc's form. */
  public static final Rule POSTGRES = new Rule("PostgreSQL", List.of("postgres", "postgresql", "jdbc:postgresql"), null,
      false, "postgres://user:password@host:5432/db or jdbc:postgresql://host:5432/db");
  /** An HTTP endpoint (webhooks, Slack incoming webhooks). */
  public static final Rule HTTP = new Rule("HTTP", List.of("http", "https"), null, false,
      "https://hooks.example.com/fraiseql");

  private static final Pattern JDBC_DATABASE_ONLY = Pattern.compile("[A-Za-z0-9_.$-]+(\\?[\\x21-\\x7E]*)?");

  private ConfigUrls() {}

  /**
   * What a URL key must look like.
   *
   * @param what the kind of server, for messages ({@code NATS})
   * @param schemes the accepted schemes, lower case
   * @param defaultScheme assumed when the value has no {@code scheme://}, or null when one is required
   * @param list whether several URLs may be given, separated by commas
   * @param example the form to suggest in a fix
   */
  public record Rule(String what, List<String> schemes, String defaultScheme, boolean list, String example) {
    public Rule {
      schemes = List.copyOf(schemes);
    }
  }

  /** The rule of a URL key the loader knows ({@code nats_url}, {@code redis_url}, {@code database_url}). */
  public static Optional<Rule> forKey(String key) {
    switch (key) {
      case "nats_url":
        return Optional.of(NATS);
      case "redis_url":
        return Optional.of(REDIS);
      case "database_url":
        return Optional.of(POSTGRES);
      case "webhook_url":
        return Optional.of(HTTP);
      default:
        return Optional.empty();
    }
  }

  /**
   * Checks {@code key} of {@code settings} (absent is fine).
   *
   * @return the problem, naming the key's location, never its value
   */
  public static Optional<ConfigProblem> check(Settings settings, String key, Rule rule) {
    Optional<Object> v = settings.value(key);
    if (v.isEmpty()) {
      return Optional.empty();
    }
    if (!(v.get() instanceof String)) {
      return Optional.of(new ConfigProblem(settings.location(key), key,
          "`" + key + "` must be a string, not " + Settings.describeType(v.get()), "write it as " + key + " = \""
              + rule.example().split(" ")[0] + "\""));
    }
    return check((String) v.get(), settings.fromEnvironment(key), rule, key, settings.shown(key),
        settings.location(key));
  }

  /**
   * Checks {@code key} of {@code settings} and throws if it is not a valid URL.
   *
   * @throws ObserverConfigException naming the key's location and the fix
   */
  public static void require(Settings settings, String key, Rule rule) {
    Optional<ConfigProblem> p = check(settings, key, rule);
    if (p.isPresent()) {
      throw new ObserverConfigException(p.get());
    }
  }

  /**
   * Checks one value; {@code shown} is how the value may appear in the message
   * ({@link ConfigText#shown(Object, String)}), {@code fromEnvironment} whether it came from {@code ${VAR}}
   * (then not even a character of it is quoted).
   */
  public static Optional<ConfigProblem> check(String value, boolean fromEnvironment, Rule rule, String key,
      String shown, ConfigLocation at) {
    return reason(value, rule, fromEnvironment).map(r -> new ConfigProblem(at, key,
        "`" + key + "` (" + shown + ") is not a valid " + rule.what() + " URL: " + r, "write it as " + rule.example()));
  }

  /** Why {@code value} is not acceptable, never quoting it; empty when it is. */
  static Optional<String> reason(String value, Rule rule, boolean fromEnv) {
    String v = value.trim();
    if (v.isEmpty()) {
      return Optional.of("it is empty");
    }
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if ((c < 0x21 || c > 0x7E) && !(c == ' ' && rule.list())) { // spaces around a list's commas are trimmed
        String what = c == ' ' ? "a space" : Character.isISOControl(c) ? "a control character"
            : Character.getType(c) == Character.FORMAT ? "an invisible formatting character" : "a non-ASCII character";
        return Optional.of("it contains " + what + (fromEnv ? "" : String.format(" (U+%04X)", (int) c))
            + " at position " + (i + 1) + "; percent-encode it, or remove it if it was pasted by accident");
      }
    }
    List<String> parts = new ArrayList<>();
    if (rule.list()) {
      for (String p : v.split(",")) {
        if (!p.trim().isEmpty()) {
          parts.add(p.trim());
        }
      }
      if (parts.isEmpty()) {
        return Optional.of("it names no server");
      }
    } else {
      parts.add(v);
    }
    for (String p : parts) {
      Optional<String> r = one(p, rule);
      if (r.isPresent()) {
        return parts.size() > 1 ? Optional.of("server " + (parts.indexOf(p) + 1) + ": " + r.get()) : r;
      }
    }
    return Optional.empty();
  }

  private static Optional<String> one(String url, Rule rule) {
    String u = url;
    int sep = u.indexOf("://");
    String lower = u.toLowerCase(Locale.ROOT);
    if (rule.schemes().contains("jdbc:postgresql") && lower.startsWith("jdbc:postgresql:")) {
      String rest = u.substring("jdbc:postgresql:".length());
      if (!rest.startsWith("//")) {
        return JDBC_DATABASE_ONLY.matcher(rest).matches() ? Optional.empty()
            : Optional.of("after jdbc:postgresql: comes //host:port/database or a database name");
      }
      u = "postgresql:" + rest;
      sep = u.indexOf("://");
    }
    if (sep < 0) {
      if (rule.defaultScheme() == null) {
        return Optional.of("it is not an absolute URL (scheme://host...)");
      }
      u = rule.defaultScheme() + "://" + u;
      sep = u.indexOf("://");
    }
    String scheme = u.substring(0, sep).toLowerCase(Locale.ROOT);
    if (rule == REDIS && scheme.endsWith("-cluster")) {
      return Optional.of("Redis Cluster is not supported yet (the redis backend talks to one master; "
          + "Sentinel failover is supported)");
    }
    if (!rule.schemes().contains(scheme) || scheme.equals("jdbc:postgresql")) {
      List<String> all = rule.schemes();
      return Optional.of("its scheme must be " + String.join(", ", all.subList(0, all.size() - 1)) + " or "
          + all.get(all.size() - 1));
    }
    URI uri;
    try {
      uri = new URI(u);
    } catch (URISyntaxException e) {
      // the reason ("Illegal character in authority") never repeats the input; the index is safe to give
      int at = e.getIndex() < 0 ? -1 : e.getIndex() + 1 - (u.length() - url.length());
      return Optional.of(e.getReason() + (at > 0 ? " at position " + at : ""));
    }
    String authority = uri.getRawAuthority();
    if (authority == null || authority.isEmpty()) {
      return Optional.of("it has no host");
    }
    if (uri.getHost() != null) {
      return port(uri.getPort());
    }
    // several hosts (pgjdbc: host1:5432,host2:5432) or a host name URI does not accept
    String hosts = authority.substring(authority.lastIndexOf('@') + 1);
    if ((rule == POSTGRES || scheme.endsWith("-sentinel")) && hosts.indexOf(',') >= 0) {
      for (String h : hosts.split(",")) {
        try {
          URI one = new URI("postgresql://" + h + "/");
          if (one.getHost() == null) {
            return Optional.of("one of its hosts is not a valid host name");
          }
          Optional<String> p = port(one.getPort());
          if (p.isPresent()) {
            return p;
          }
        } catch (URISyntaxException e) {
          return Optional.of("one of its hosts is not a valid host name");
        }
      }
      return Optional.empty();
    }
    try {
      new URI(u).parseServerAuthority();
    } catch (URISyntaxException e) {
      return Optional.of(e.getReason());
    }
    return Optional.of("its host is not a valid host name (letters, digits, - and . only)");
  }

  private static Optional<String> port(int port) {
    if (port == 0 || port > 65_535) {
      return Optional.of("the port must be from 1 to 65535");
    }
    return Optional.empty();
  }
}
