package dev.fraiseql.observers.testkit;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** What the logger (slf4j-simple, on {@code System.err}) wrote while a block ran, and counts read from its lines. */
public final class CapturedStderr {
  private CapturedStderr() {}

  /** A block that may throw. */
  @FunctionalInterface
  public interface Block {
    void run() throws Exception;
  }

  /** Runs {@code block} with {@code System.err} captured; returns what was written. */
  public static String during(Block block) throws Exception {
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream stderr = System.err;
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      block.run();
    } finally {
      System.setErr(stderr);
    }
    return err.toString(StandardCharsets.UTF_8);
  }

  /**
   * Throttled log lines: how many match {@code line}, the sum of their first group (the count since
   * the previous line) and the last one's second group (the count in all).
   */
  public record Counts(int lines, long sinceSum, long lastInAll) {
    public static Counts of(Pattern line, String text) {
      int lines = 0;
      long sum = 0;
      long last = 0;
      Matcher m = line.matcher(text);
      while (m.find()) {
        lines++;
        sum += Long.parseLong(m.group(1));
        last = Long.parseLong(m.group(2));
      }
      return new Counts(lines, sum, last);
    }
  }
}
