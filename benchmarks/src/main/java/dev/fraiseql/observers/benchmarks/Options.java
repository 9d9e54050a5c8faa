package dev.fraiseql.observers.benchmarks;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Command-line options of {@link Ratios}: {@code --case=core,webhook,...}, {@code --scale=<float>},
 * {@code --smoke}, {@code --json=<path>}, {@code --rounds=<n>}.
 *
 * @param cases the cases to run, in order; empty means every available case
 * @param scale multiplies event counts
 * @param smoke tiny sizes, one round, no warm-up worth the name: only checks that every case runs and counts match
 * @param json where the JSON table goes
 * @param rounds measured pairs of rounds (ours and raw back to back, alternating which goes first); the median
 *     of the per-pair ratios is reported
 */
public record Options(List<String> cases, double scale, boolean smoke, Path json, int rounds) {

  /** Every case the harness knows, in the order they run. */
  public static final List<String> ALL = List.of("core", "webhook", "nats", "nats-cluster", "redis", "pg", "capture", "memory",
      "observability", "graphql-ws", "ordering");

  /**
   * Measured pairs per row when {@code --rounds} is not given: enough that the median per-pair ratio of
   * two runs agrees within about ±0.1 (see the benchmarks README for how that was checked).
   */
  static final int DEFAULT_ROUNDS = 9;

  static Options parse(String... args) {
    Set<String> cases = new LinkedHashSet<>();
    double scale = 1.0;
    boolean smoke = false;
    Path json = Path.of("benchmarks", "target", "ratios.json");
    Integer rounds = null;
    for (String a : args) {
      if (a.startsWith("--case=")) {
        for (String c : a.substring(7).split(",")) {
          String n = c.trim().toLowerCase(Locale.ROOT);
          if (n.isEmpty()) {
            continue;
          }
          if (!ALL.contains(n)) {
            throw new IllegalArgumentException("unknown case `" + n + "` (cases: " + String.join(", ", ALL) + ")");
          }
          cases.add(n);
        }
      } else if (a.startsWith("--scale=")) {
        scale = Double.parseDouble(a.substring(8));
        if (!(scale > 0)) {
          throw new IllegalArgumentException("--scale must be positive, got " + a.substring(8));
        }
      } else if (a.equals("--smoke")) {
        smoke = true;
      } else if (a.startsWith("--json=")) {
        json = Path.of(a.substring(7));
      } else if (a.startsWith("--rounds=")) {
        rounds = Integer.parseInt(a.substring(9));
        if (rounds < 1) {
          throw new IllegalArgumentException("--rounds must be at least 1");
        }
      } else if (a.equals("--help") || a.equals("-h")) {
        throw new IllegalArgumentException("usage");
      } else {
        throw new IllegalArgumentException("unknown argument `" + a + "`");
      }
    }
    return new Options(new ArrayList<>(cases), scale, smoke, json, rounds != null ? rounds : smoke ? 1 : DEFAULT_ROUNDS);
  }

  /** {@code base} scaled, or a tiny count in smoke mode; at least 1. */
  long count(long base, long smokeCount) {
    return smoke ? smokeCount : Math.max(1, Math.round(base * scale));
  }

  /** Warm-up size for a measured size: half of it in smoke mode, all of it otherwise (JIT, pools, connections). */
  long warmup(long measured) {
    return smoke ? Math.max(1, measured / 2) : measured;
  }

  static String usage() {
    return "usage: Ratios [--case=" + String.join(",", ALL) + "] [--scale=<float>] [--smoke] [--json=<path>] [--rounds=<n>]";
  }
}
