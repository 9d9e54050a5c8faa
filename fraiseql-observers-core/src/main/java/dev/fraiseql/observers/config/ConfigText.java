package dev.fraiseql.observers.config;

/**
 * The one place that decides how a configured value may appear in text: an error message, a log
 * line or a {@code toString()}. Every module renders configured values through it (usually through
 * {@link Settings#shown(String)}).
 *
 * <ul>
 *   <li>A value that came from the environment is shown as it was written in the file, with its
 *       {@code ${VAR}} references ({@code ${SECRET_URL}}, {@code https://${HOOK_HOST}/hook}), never
 *       with what the variables hold.
 *   <li>In a URL, the user-info part becomes {@code ***} and the query string and fragment are
 *       dropped ({@code https://***@host/path?***}), whether the URL came from the environment or
 *       was written in the file.
 *   <li>Control, format (bidirectional overrides such as U+202E) and other invisible characters are
 *       written as {@code \\u} and four hex digits ({@code \\u202E}), so a message shows what is really there.
 * </ul>
 */
public final class ConfigText {
  private ConfigText() {}

  /**
   * How a configured value may be shown.
   *
   * @param value the value in use (after {@code ${VAR}} expansion)
   * @param asWritten the text as written in the file when it used {@code ${VAR}}, else null
   */
  public static String shown(Object value, String asWritten) {
    if (asWritten != null) {
      return visible(redactUrl(asWritten));
    }
    if (value == null) {
      return "";
    }
    if (value instanceof String) {
      return visible(redactUrl((String) value));
    }
    if (value instanceof Settings) {
      return "a table";
    }
    if (value instanceof java.util.List) {
      return "an array";
    }
    return visible(String.valueOf(value));
  }

  /**
   * A URL (or a comma-separated list of them) with credentials hidden: the user-info part becomes
   * {@code ***}, a query string {@code ?***}, a fragment is dropped. Text that is not a URL is
   * returned as it is.
   */
  public static String redactUrl(String text) {
    if (text == null) {
      return "";
    }
    if (text.indexOf(',') >= 0 && text.indexOf("://") >= 0) {
      String[] parts = text.split(",", -1);
      StringBuilder out = new StringBuilder();
      for (int i = 0; i < parts.length; i++) {
        out.append(i == 0 ? "" : ",").append(redactOne(parts[i]));
      }
      return out.toString();
    }
    return redactOne(text);
  }

  private static String redactOne(String url) {
    int scheme = url.indexOf("://");
    if (scheme < 0) {
      return url;
    }
    int start = scheme + 3;
    String u = url;
    int hash = u.indexOf('#', start);
    if (hash >= 0) {
      u = u.substring(0, hash);
    }
    int q = u.indexOf('?', start);
    String query = "";
    if (q >= 0) {
      query = "?***";
      u = u.substring(0, q);
    }
    int slash = u.indexOf('/', start);
    int authorityEnd = slash < 0 ? u.length() : slash;
    int at = u.lastIndexOf('@', authorityEnd - 1);
    if (at >= start) {
      u = u.substring(0, start) + "***" + u.substring(at);
    }
    return u + query;
  }

  /** {@code text} with control, format and other invisible characters written as {@code \\u} and four hex digits. */
  public static String visible(String text) {
    if (text == null) {
      return "";
    }
    StringBuilder out = null;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (invisible(c)) {
        if (out == null) {
          out = new StringBuilder(text.length() + 16).append(text, 0, i);
        }
        out.append(String.format("\\u%04X", (int) c));
      } else if (out != null) {
        out.append(c);
      }
    }
    return out == null ? text : out.toString();
  }

  private static boolean invisible(char c) {
    if (c == ' ') {
      return false;
    }
    if (Character.isISOControl(c)) {
      return true;
    }
    if (Character.isSurrogate(c)) {
      return false;
    }
    int type = Character.getType(c);
    return type == Character.FORMAT || type == Character.SPACE_SEPARATOR || type == Character.LINE_SEPARATOR
        || type == Character.PARAGRAPH_SEPARATOR || type == Character.UNASSIGNED || type == Character.PRIVATE_USE;
  }
}
