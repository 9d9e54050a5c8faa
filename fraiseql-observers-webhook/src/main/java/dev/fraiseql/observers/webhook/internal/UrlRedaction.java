package dev.fraiseql.observers.webhook.internal;

import java.net.URI;
import java.net.URISyntaxException;

/**
 * Renders URLs for logs and error messages without their secrets: the user-info part and the query
 * string become {@code ***} ({@code https://***@host/path?***}). Fragments are dropped. A string that is
 * not a URL is replaced entirely by {@code ***}.
 */
public final class UrlRedaction {
  private UrlRedaction() {}

  /** The redacted form of {@code uri}. */
  public static String redact(URI uri) {
    if (uri == null) {
      return "***";
    }
    if (uri.isOpaque()) {
      return "***";
    }
    if (uri.getScheme() == null) {
      // A relative reference (a Location of "/login?next=..."): its path, query hidden.
      return (uri.getRawPath() == null ? "" : uri.getRawPath()) + (uri.getRawQuery() != null ? "?***" : "");
    }
    StringBuilder s = new StringBuilder();
    s.append(uri.getScheme()).append("://");
    if (uri.getRawUserInfo() != null) {
      s.append("***@");
    }
    String host = uri.getHost();
    if (host == null) {
      // Unparsable authority (e.g. underscores in names): keep nothing of it but the fact it is there.
      return uri.getScheme() + "://***";
    }
    s.append(host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host);
    if (uri.getPort() >= 0) {
      s.append(':').append(uri.getPort());
    }
    if (uri.getRawPath() != null) {
      s.append(uri.getRawPath());
    }
    if (uri.getRawQuery() != null) {
      s.append("?***");
    }
    return s.toString();
  }

  /** The redacted form of a URL given as text (a {@code Location} header, for instance). */
  public static String redact(String url) {
    if (url == null || url.isEmpty()) {
      return "";
    }
    try {
      return redact(new URI(url.trim()));
    } catch (URISyntaxException e) {
      return "***";
    }
  }

  /**
   * The URL with its path hidden as well ({@code https://hooks.slack.com/***}): for URLs whose path is
   * the credential, such as Slack incoming webhooks.
   */
  public static String redactPath(URI uri) {
    if (uri == null || uri.getScheme() == null || uri.getHost() == null) {
      return "***";
    }
    return uri.getScheme() + "://" + (uri.getRawUserInfo() != null ? "***@" : "") + uri.getHost()
        + (uri.getPort() >= 0 ? ":" + uri.getPort() : "") + "/***";
  }
}
