package dev.fraiseql.observers.cli.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/** Output for people (aligned tables, colour only on a terminal) and for scripts (JSON). */
final class Out {
  static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final Pattern ANSI = Pattern.compile("\u001b\\[[0-9;]*m");
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss", Locale.ROOT)
      .withZone(ZoneOffset.UTC);

  final PrintWriter out;
  final PrintWriter err;
  private final boolean color;

  Out(PrintWriter out, PrintWriter err, boolean color) {
    this.out = out;
    this.err = err;
    this.color = color;
  }

  /** auto: on a terminal unless NO_COLOR is set or TERM is dumb; always; never. */
  static boolean colorFor(String when) {
    switch (when == null ? "auto" : when.toLowerCase(Locale.ROOT)) {
      case "always":
        return true;
      case "never":
        return false;
      case "auto":
        String noColor = System.getenv("NO_COLOR");
        if (noColor != null && !noColor.isEmpty() || "dumb".equals(System.getenv("TERM"))) {
          return false;
        }
        return isTerminal();
      default:
        throw CliFailure.usage("--color must be auto, always or never, not " + when);
    }
  }

  private static boolean isTerminal() {
    java.io.Console c = System.console();
    if (c == null) {
      return false;
    }
    try { // JDK 22+: System.console() is not null when redirected; isTerminal() tells
      return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(c);
    } catch (NoSuchMethodException e) {
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return false;
    }
  }

  void line(String s) {
    out.println(s);
  }

  void line() {
    out.println();
  }

  void json(Object value) {
    try {
      out.println(JSON.writeValueAsString(value));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  ObjectNode object() {
    return JSON.createObjectNode();
  }

  String bold(String s) {
    return paint("1", s);
  }

  String red(String s) {
    return paint("31", s);
  }

  String green(String s) {
    return paint("32", s);
  }

  String yellow(String s) {
    return paint("33", s);
  }

  String dim(String s) {
    return paint("2", s);
  }

  private String paint(String code, String s) {
    return color ? "\u001b[" + code + "m" + s + "\u001b[0m" : s;
  }

  /** Prints an aligned table: a bold header row, then the rows; cells may hold colour. */
  void table(List<String> headers, List<List<String>> rows) {
    int[] w = new int[headers.size()];
    for (int i = 0; i < w.length; i++) {
      w[i] = visible(headers.get(i));
    }
    for (List<String> r : rows) {
      for (int i = 0; i < w.length && i < r.size(); i++) {
        w[i] = Math.max(w[i], visible(r.get(i)));
      }
    }
    List<String> h = new ArrayList<>();
    for (int i = 0; i < w.length; i++) {
      h.add(bold(headers.get(i)));
    }
    printRow(h, w);
    for (List<String> r : rows) {
      printRow(r, w);
    }
  }

  private void printRow(List<String> cells, int[] w) {
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < w.length; i++) {
      String c = i < cells.size() ? cells.get(i) : "";
      s.append(c);
      if (i < w.length - 1) {
        s.append(" ".repeat(w[i] - visible(c) + 2));
      }
    }
    out.println(s.toString().stripTrailing());
  }

  private static int visible(String s) {
    return ANSI.matcher(s).replaceAll("").length();
  }

  static String time(Instant t) {
    return TIME.format(t);
  }

  /** 850ms, 4.2s, 3m 12s, 2h 05m, 3d 4h. */
  static String duration(Duration d) {
    long ms = d.toMillis();
    if (ms < 1000) {
      return ms + "ms";
    }
    if (ms < 60_000) {
      return String.format(Locale.ROOT, "%.1fs", ms / 1000.0);
    }
    long s = ms / 1000;
    if (s < 3600) {
      return (s / 60) + "m " + String.format(Locale.ROOT, "%02d", s % 60) + "s";
    }
    if (s < 86_400) {
      return (s / 3600) + "h " + String.format(Locale.ROOT, "%02d", (s % 3600) / 60) + "m";
    }
    return (s / 86_400) + "d " + ((s % 86_400) / 3600) + "h";
  }

  /** 200ms, 1s, 1.5s, 60s, 5m, 90m: exact, for configured delays and timeouts. */
  static String compact(Duration d) {
    long ms = d.toMillis();
    if (ms < 1000 || ms % 100 != 0) {
      return ms + "ms";
    }
    if (ms % 60_000 == 0 && ms >= 120_000) {
      return (ms / 60_000) + "m";
    }
    if (ms % 1000 == 0) {
      return (ms / 1000) + "s";
    }
    return String.format(Locale.ROOT, "%.1fs", ms / 1000.0);
  }

  /** At most {@code max} characters on one line. */
  static String cut(String s, int max) {
    String one = s.replace('\n', ' ').replace('\r', ' ');
    return one.length() <= max ? one : one.substring(0, max - 1) + "…";
  }
}
