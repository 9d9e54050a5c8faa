package dev.fraiseql.observers.nats.internal;

/** Removes secrets from what may be logged. */
public final class Redact {
  private Redact() {}

  /** {@code nats://user:secret@host:4222?x=y} becomes {@code nats://***@host:4222}. */
  public static String url(String url) {
    if (url == null) {
      return "";
    }
    String u = url;
    int q = u.indexOf('?');
    if (q >= 0) {
      u = u.substring(0, q);
    }
    int scheme = u.indexOf("://");
    int start = scheme >= 0 ? scheme + 3 : 0;
    int at = u.lastIndexOf('@');
    if (at >= start) {
      u = u.substring(0, start) + "***" + u.substring(at);
    }
    return u;
  }
}
