package dev.fraiseql.observers.webhook.internal;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.samskivert.mustache.BasicCollector;
import com.samskivert.mustache.Mustache;
import com.samskivert.mustache.MustacheException;
import com.samskivert.mustache.Template;
import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.config.ConfigProblem;
import dev.fraiseql.observers.config.Settings;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A Mustache template (jmustache) rendered over an event's default JSON: {@code {{table}}},
 * {@code {{data.new.name}}}, {@code {{context.tenant_id}}}, sections {@code {{#data.old}}...{{/data.old}}}.
 *
 * <p>Every substituted value is escaped for where it lands, so that a field value can never change the
 * shape of the body:
 * <ul>
 *   <li>{@link Syntax#JSON}: strings are JSON-string-escaped ({@code "}, {@code \}, control characters,
 *       U+2028/9), numbers and booleans are written as such, objects and arrays are written as JSON
 *       (Jackson-serialized, so they cannot break out either). Triple mustaches {@code {{{x}}}} and
 *       {@code {{&x}}} (unescaped) are refused. The template is rendered once at load with every value
 *       standing in as {@code 0}: a template that cannot produce valid JSON is a load-time error; a
 *       body that is not valid JSON for a particular event fails that delivery permanently.
 *   <li>{@link Syntax#FORM}: values are URL-encoded ({@code application/x-www-form-urlencoded}).
 *   <li>{@link Syntax#SLACK}: Slack's control characters {@code & < >} are escaped
 *       ({@code <!channel>} or a link cannot be injected).
 *   <li>{@link Syntax#TEXT}: values are inserted as they are (any other content type).
 * </ul>
 * Missing values render as the empty string. Partials are not supported.
 */
final class BodyTemplate {
  /** How values are escaped. */
  enum Syntax {
    JSON,
    FORM,
    SLACK,
    TEXT
  }

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final Template template;
  private final Syntax syntax;

  private BodyTemplate(Template template, Syntax syntax) {
    this.template = template;
    this.syntax = syntax;
  }

  /** The syntax implied by a content type. */
  static Syntax syntaxFor(String contentType) {
    String ct = contentType.toLowerCase(java.util.Locale.ROOT);
    if (ct.contains("json")) {
      return Syntax.JSON;
    }
    if (ct.contains("x-www-form-urlencoded")) {
      return Syntax.FORM;
    }
    return Syntax.TEXT;
  }

  /**
   * Compiles the template in {@code settings} under {@code key} and checks it.
   *
   * @throws ObserverConfigException naming the key and its location when it does not compile or
   *     cannot produce valid JSON
   */
  static BodyTemplate compile(Settings settings, String key, Syntax syntax, String handler) {
    String text = settings.string(key).orElseThrow();
    if (syntax == Syntax.JSON && (text.contains("{{{") || text.contains("{{&") || text.contains("{{="))) {
      throw problem(settings, key, "`" + key + "` of handler " + handler
          + " uses an unescaped tag ({{{...}}} or {{&...}}) or changes the delimiters ({{=...=}}),"
          + " which could let a field value inject JSON",
          "use {{...}}: strings are JSON-escaped (write the quotes around them in the template), "
              + "objects and arrays are inserted as JSON");
    }
    Template t;
    try {
      t = compiler(syntax).compile(text);
    } catch (MustacheException e) {
      throw problem(settings, key, "`" + key + "` of handler " + handler + " is not a valid Mustache template: "
          + e.getMessage(), "fix the template syntax ({{name}}, {{#section}}...{{/section}})");
    }
    BodyTemplate bt = new BodyTemplate(t, syntax);
    String probe;
    try {
      probe = t.execute(Probe.INSTANCE);
    } catch (MustacheException e) {
      throw problem(settings, key, "`" + key + "` of handler " + handler + " cannot be rendered: " + e.getMessage(),
          "partials ({{> name}}) are not supported; use only variables and sections");
    }
    if (syntax == Syntax.JSON) {
      String why = jsonError(probe);
      if (why != null) {
        throw problem(settings, key, "`" + key + "` of handler " + handler + " does not render valid JSON (" + why
            + ")", "check braces, commas and quotes; write string values as \"{{data.new.name}}\", "
            + "or set content_type to a non-JSON type");
      }
    }
    return bt;
  }

  /** Compiles a template given in code (for defaults). */
  static BodyTemplate ofDefault(String text, Syntax syntax) {
    return new BodyTemplate(compiler(syntax).compile(text), syntax);
  }

  Syntax syntax() {
    return syntax;
  }

  /**
   * Renders over the event's default JSON.
   *
   * @throws IllegalArgumentException (message free of event data) when rendering fails or, for JSON,
   *     when the result is not valid JSON
   */
  String render(byte[] eventJson) {
    Object model;
    try {
      model = MAPPER.readValue(eventJson, Object.class);
    } catch (IOException e) {
      throw new IllegalArgumentException("the event payload is not valid JSON");
    }
    String out;
    try {
      out = template.execute(model);
    } catch (MustacheException e) {
      throw new IllegalArgumentException("body template failed: " + e.getClass().getSimpleName());
    }
    if (syntax == Syntax.JSON) {
      String why = jsonError(out);
      if (why != null) {
        throw new IllegalArgumentException("body_template rendered invalid JSON for this event (" + why + ")");
      }
    }
    return out;
  }

  /** Null when {@code s} is one valid JSON value; otherwise where it breaks (no content quoted). */
  private static String jsonError(String s) {
    try (com.fasterxml.jackson.core.JsonParser p = MAPPER.getFactory().createParser(s)) {
      if (MAPPER.readTree(p) == null) {
        return "the body is empty";
      }
      if (p.nextToken() != null) {
        return "unexpected content after the JSON value at line " + p.currentLocation().getLineNr()
            + ", column " + p.currentLocation().getColumnNr();
      }
      return null;
    } catch (JsonParseException e) {
      return "syntax error at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
    } catch (JsonProcessingException e) {
      return "not a JSON value";
    } catch (IOException e) {
      return "unreadable";
    }
  }

  private static ObserverConfigException problem(Settings settings, String key, String message, String fix) {
    return new ObserverConfigException(new ConfigProblem(settings.location(key), key, message, fix));
  }

  private static Mustache.Compiler compiler(Syntax syntax) {
    return Mustache.compiler()
        .defaultValue("")
        .nullValue("")
        .withCollector(new BasicCollector() {
          @Override
          public <K, V> Map<K, V> createFetcherCache() {
            return new ConcurrentHashMap<>();
          }
        })
        .withFormatter(BodyTemplate::format)
        .withEscaper(escaper(syntax));
  }

  /** A value inserted as raw JSON (objects and arrays in JSON templates): escapers leave it alone. */
  private static final class RawJson implements CharSequence {
    private final String json;

    RawJson(String json) {
      this.json = json;
    }

    @Override
    public int length() {
      return json.length();
    }

    @Override
    public char charAt(int index) {
      return json.charAt(index);
    }

    @Override
    public CharSequence subSequence(int start, int end) {
      return json.subSequence(start, end);
    }

    @Override
    public String toString() {
      return json;
    }
  }

  private static CharSequence format(Object value) {
    if (value instanceof Probe) {
      return "0";
    }
    if (value instanceof Map || value instanceof List) {
      try {
        return new RawJson(MAPPER.writeValueAsString(value));
      } catch (JsonProcessingException e) {
        return "";
      }
    }
    return String.valueOf(value);
  }

  private static Mustache.Escaper escaper(Syntax syntax) {
    return new Mustache.Escaper() {
      @Override
      public String escape(String raw) {
        switch (syntax) {
          case JSON:
            return jsonEscape(raw);
          case FORM:
            return URLEncoder.encode(raw, StandardCharsets.UTF_8);
          case SLACK:
            return raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
          case TEXT:
          default:
            return raw;
        }
      }

      @Override
      public CharSequence escape(CharSequence raw) {
        if (raw instanceof RawJson && syntax == Syntax.JSON) {
          return raw;
        }
        return escape(raw.toString());
      }
    };
  }

  static String jsonEscape(String s) {
    StringBuilder out = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      String rep;
      switch (c) {
        case '"':
          rep = "\\\"";
          break;
        case '\\':
          rep = "\\\\";
          break;
        case '\n':
          rep = "\\n";
          break;
        case '\r':
          rep = "\\r";
          break;
        case '\t':
          rep = "\\t";
          break;
        case '\b':
          rep = "\\b";
          break;
        case '\f':
          rep = "\\f";
          break;
        case '\u2028':
          rep = "\\u2028";
          break;
        case '\u2029':
          rep = "\\u2029";
          break;
        default:
          rep = c < 0x20 ? String.format("\\u%04x", (int) c) : null;
      }
      if (rep != null) {
        if (out == null) {
          out = new StringBuilder(s.length() + 16).append(s, 0, i);
        }
        out.append(rep);
      } else if (out != null) {
        out.append(c);
      }
    }
    return out == null ? s : out.toString();
  }

  /** Stands in for every value during the load-time check: any name resolves to it; it prints as 0. */
  private static final class Probe implements Mustache.CustomContext {
    static final Probe INSTANCE = new Probe();

    @Override
    public Object get(String name) {
      return this;
    }
  }
}
