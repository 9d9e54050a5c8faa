package dev.fraiseql.observers.webhook.internal;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The library version, for the {@code User-Agent} header. */
final class Version {
  static final String VERSION = load();
  static final String USER_AGENT = "fraiseql-observers-java/" + VERSION;

  private Version() {}

  private static String load() {
    try (InputStream in = Version.class.getResourceAsStream("version.properties")) {
      if (in != null) {
        Properties p = new Properties();
        p.load(in);
        String v = p.getProperty("version", "").trim();
        if (!v.isEmpty() && !v.startsWith("$")) {
          return v;
        }
      }
    } catch (IOException ignored) {
      // fall through to the manifest / unknown
    }
    String v = Version.class.getPackage() == null ? null : Version.class.getPackage().getImplementationVersion();
    return v == null ? "unknown" : v;
  }
}
