package dev.fraiseql.observers.email.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.samskivert.mustache.BasicCollector;
import com.samskivert.mustache.Escapers;
import com.samskivert.mustache.Mustache;
import com.samskivert.mustache.MustacheException;
import com.samskivert.mustache.Template;
import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.config.ConfigProblem;
import dev.fraiseql.observers.config.Settings;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One Mustache template (jmustache) of an email, rendered over the event's default JSON as a map:
 * {@code {{data.new.email}}}, {@code {{context.tenant_id}}}, sections {@code {{#data.new.items}}...{{/data.new.items}}}.
 * Missing values render as the empty string; objects and arrays as JSON.
 *
 * <p>Each {@link Kind} escapes substituted values for where they land:
 * <ul>
 *   <li>{@link Kind#ADDRESS} ({@code to}, {@code cc}, {@code bcc}, {@code from}, {@code reply_to}): a value
 *       containing a line break or another control character is <em>refused</em> (the delivery fails
 *       permanently, nothing is sent); a value containing one of {@code , ; < > " ( ) [ ] \ :} is inserted
 *       as an RFC 5322 quoted string, so it can be a display name ({@code "Smith, Jane"}) but can never
 *       add a recipient (as an address it no longer parses, and the delivery fails).
 *   <li>{@link Kind#HEADER} ({@code subject}): inserted as is; line breaks and other control characters in
 *       the rendered value (from a field or from the template) are replaced by spaces, so the value stays one
 *       header line.
 *   <li>{@link Kind#HTML}: values are HTML-escaped ({@code & < > " ' ` =}).
 *   <li>{@link Kind#TEXT}: values are inserted as they are.
 * </ul>
 * Unescaped tags ({@code {{{x}}}}, {@code {{&x}}}) and delimiter changes are refused at load in HTML and
 * address templates. Partials are not supported.
 */
final class MailTemplate {
  /** Where the rendered text goes, which decides the escaping. */
  enum Kind {
    ADDRESS,
    HEADER,
    HTML,
    TEXT
  }

  /** Thrown while rendering when a value cannot go where the template puts it; the message holds no event data. */
  static final class RefusedValueException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    RefusedValueException(String message) {
      super(message, null, false, false);
    }
  }

  private static final ObjectMapper MAPPER = new ObjectMapper();
  /** Characters that would change the structure of an address list or a header. */
  private static final String ADDRESS_SPECIALS = ",;<>\"()[]\\:";

  private final Template template;
  private final Kind kind;
  private final String key;

  private MailTemplate(Template template, Kind kind, String key) {
    this.template = template;
    this.kind = kind;
    this.key = key;
  }

  /**
   * Compiles {@code text} (the value of {@code key}).
   *
   * @throws ObserverConfigException naming the key and its location when it does not compile
   */
  static MailTemplate compile(Settings settings, String key, String text, Kind kind, String handler) {
    if ((kind == Kind.HTML || kind == Kind.ADDRESS)
        && (text.contains("{{{") || text.contains("{{&") || text.contains("{{="))) {
      throw problem(settings, key, "`" + key + "` of handler " + handler
          + " uses an unescaped tag ({{{...}}} or {{&...}}) or changes the delimiters ({{=...=}}),"
          + " which would let a field value inject " + (kind == Kind.HTML ? "markup" : "headers or recipients"),
          "use {{...}}: values are " + (kind == Kind.HTML ? "HTML-escaped" : "checked") + " for you");
    }
    Template t;
    try {
      t = compiler(kind).compile(text);
    } catch (MustacheException e) {
      throw problem(settings, key, "`" + key + "` of handler " + handler + " is not a valid Mustache template: "
          + e.getMessage(), "fix the template syntax ({{name}}, {{#section}}...{{/section}})");
    }
    try {
      t.execute(Probe.INSTANCE);
    } catch (MustacheException e) {
      throw problem(settings, key, "`" + key + "` of handler " + handler + " cannot be rendered: " + e.getMessage(),
          "partials ({{> name}}) are not supported; use only variables and sections");
    }
    return new MailTemplate(t, kind, key);
  }

  /** The configuration key this template came from. */
  String key() {
    return key;
  }

  /**
   * Renders over the event model (the event's JSON read as maps and lists).
   *
   * @throws RefusedValueException (message free of event data) when a value cannot go where it lands
   */
  String render(Object model) {
    String out;
    try {
      out = template.execute(model);
    } catch (RefusedValueException e) {
      throw e;
    } catch (MustacheException e) {
      if (e.getCause() instanceof RefusedValueException) {
        throw (RefusedValueException) e.getCause();
      }
      throw new RefusedValueException("`" + key + "` could not be rendered (" + e.getClass().getSimpleName() + ")");
    }
    switch (kind) {
      case HEADER:
        return oneLine(out);
      case ADDRESS:
        for (int i = 0; i < out.length(); i++) {
          if (isControl(out.charAt(i))) {
            throw new RefusedValueException("the rendered `" + key + "` contains a line break or control character");
          }
        }
        return out.strip();
      default:
        return out;
    }
  }

  /** {@code s} with every line break and other control character replaced by a space, trimmed. */
  static String oneLine(String s) {
    StringBuilder b = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (isControl(c)) {
        if (b == null) {
          b = new StringBuilder(s.length()).append(s, 0, i);
        }
        b.append(' ');
      } else if (b != null) {
        b.append(c);
      }
    }
    return (b == null ? s : b.toString()).strip();
  }

  /** C0 and C1 controls (CR, LF, TAB, NUL, NEL...), DEL and the Unicode line and paragraph separators. */
  static boolean isControl(char c) {
    return Character.isISOControl(c) || c == '\u2028' || c == '\u2029';
  }

  private static ObserverConfigException problem(Settings settings, String key, String message, String fix) {
    return new ObserverConfigException(new ConfigProblem(settings.location(key), key, message, fix));
  }

  private static Mustache.Compiler compiler(Kind kind) {
    return Mustache.compiler()
        .defaultValue("") // missing and null values both render as ""
        .withCollector(new BasicCollector() {
          @Override
          public <K, V> Map<K, V> createFetcherCache() {
            return new ConcurrentHashMap<>();
          }
        })
        .withFormatter(MailTemplate::format)
        .withEscaper(escaper(kind));
  }

  private static CharSequence format(Object value) {
    if (value instanceof Probe) {
      return "x";
    }
    if (value instanceof Map || value instanceof List) {
      try {
        return MAPPER.writeValueAsString(value);
      } catch (JsonProcessingException e) {
        return "";
      }
    }
    return String.valueOf(value);
  }

  private static Mustache.Escaper escaper(Kind kind) {
    switch (kind) {
      case HTML:
        return Escapers.HTML;
      case ADDRESS:
        return raw -> {
          boolean special = false;
          for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (isControl(c)) {
              throw new RefusedValueException("a value in an address template contains a line break or control"
                  + " character, which could add a header");
            }
            special |= ADDRESS_SPECIALS.indexOf(c) >= 0;
          }
          // a quoted string: a display name keeps its comma or <, and no value can add a recipient
          return special ? "\"" + raw.replace("\\", "\\\\").replace("\"", "\\\"") + "\"" : raw;
        };
      case HEADER:
      case TEXT:
      default:
        return Escapers.NONE;
    }
  }

  /** Stands in for every value during the load-time check: any name resolves to it; it prints as x. */
  private static final class Probe implements Mustache.CustomContext {
    static final Probe INSTANCE = new Probe();

    @Override
    public Object get(String name) {
      return this;
    }
  }
}
