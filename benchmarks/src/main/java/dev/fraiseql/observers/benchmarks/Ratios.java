package dev.fraiseql.observers.benchmarks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ForkJoinPool;

/**
 * The ratio harness: for each case, runs our path (the real library path) and the raw client path in
 * the same JVM, with the same payload, concurrency and server, warm-up then measured rounds, and prints
 * {@code case | ours (ops/s) | raw (ops/s) | ratio | min–max | target | ok?}; writes the same table as JSON. Each
 * measured round of our side is paired with the raw round run next to it; the ratio is the median of the
 * per-pair ratios, with their min–max.
 *
 * <pre>
 * bin/bench                          # every case whose server is reachable
 * bin/bench --case=core,nats --scale=0.5
 * bin/bench --smoke                  # tiny sizes: checks every case runs and counts match (CI)
 * </pre>
 *
 * Exit status 0 when every case ran and each receiver counted exactly what was sent (a missed ratio
 * target does not fail the run); 1 otherwise; 2 on bad arguments.
 */
public final class Ratios {
  static {
    // The harness measures the engine, not stderr: keep slf4j-simple quiet unless told otherwise.
    setIfAbsent("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    setIfAbsent("org.slf4j.simpleLogger.log.dev.fraiseql.observers", "error");
    setIfAbsent("org.slf4j.simpleLogger.log.io.nats", "error");
    // The JDK HttpServer receiver otherwise leaves Nagle on: every small response waits for a delayed ACK (~40 ms).
    setIfAbsent("sun.net.httpserver.nodelay", "true");
  }

  private Ratios() {}

  private static void setIfAbsent(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }

  /** What a run produced. */
  public record Report(List<Row> rows, Map<String, String> skipped, Map<String, String> failures, double seconds) {
    /** True when no case failed and every row's counts match what was sent. */
    public boolean ok() {
      return failures.isEmpty() && rows.stream().allMatch(Row::countsMatch);
    }
  }

  public static void main(String[] args) throws IOException {
    Options o;
    try {
      o = Options.parse(args);
    } catch (IllegalArgumentException e) {
      if (!"usage".equals(e.getMessage())) {
        System.err.println(e.getMessage());
      }
      System.err.println(Options.usage());
      System.exit(2);
      return;
    }
    Report r = run(o, System.out);
    print(r, o, System.out);
    writeJson(r, o, args);
    System.out.println("JSON written to " + o.json().toAbsolutePath().normalize());
    System.exit(r.ok() ? 0 : 1);
  }

  /** The cases this build knows, in run order. */
  static List<BenchCase> cases() {
    List<BenchCase> all = new ArrayList<>();
    all.add(new CoreCase());
    all.add(new WebhookCase());
    all.add(new NatsCase());
    all.add(NatsCase.cluster());
    all.add(new RedisCase());
    all.add(new PgCase());
    all.add(new CaptureCase());
    all.add(new MemoryCase());
    all.add(new ObservabilityCase());
    all.add(new GraphQLWsCase());
    all.add(new OrderingCase());
    return all;
  }

  /** Runs the selected cases (all available ones by default) and returns their rows. */
  public static Report run(Options o, PrintStream log) {
    long start = System.nanoTime();
    List<Row> rows = new ArrayList<>();
    Map<String, String> skipped = new LinkedHashMap<>();
    Map<String, String> failures = new LinkedHashMap<>();
    Map<String, BenchCase> known = new LinkedHashMap<>();
    for (BenchCase c : cases()) {
      known.put(c.name(), c);
    }
    List<String> selected = o.cases().isEmpty() ? Options.ALL : o.cases();
    for (String name : Options.ALL) {
      if (!selected.contains(name)) {
        continue;
      }
      BenchCase c = known.get(name);
      if (c == null) {
        skipped.put(name, "not built: its module is not in this build yet");
        log.printf("%-8s skipped: not built: its module is not in this build yet%n", name);
        continue;
      }
      Optional<String> why = c.unavailable();
      if (why.isPresent()) {
        skipped.put(name, why.get());
        log.printf("%-8s skipped: %s%n", name, why.get());
        continue;
      }
      long t0 = System.nanoTime();
      log.printf("%-8s running%s ...%n", name, o.smoke() ? " (smoke)" : "");
      try {
        List<Row> got = c.run(o);
        rows.addAll(got);
        for (Row row : got) {
          if (!row.countsMatch()) {
            failures.put(row.name(), "sent " + row.sent() + ", ours counted " + row.oursReceived() + ", raw counted "
                + row.rawReceived());
          }
        }
        log.printf("%-8s done in %.1fs%n", name, (System.nanoTime() - t0) / 1e9);
      } catch (Exception | AssertionError e) {
        failures.put(name, e.toString());
        log.printf("%-8s FAILED: %s%n", name, e);
        e.printStackTrace(log);
      }
    }
    return new Report(rows, skipped, failures, (System.nanoTime() - start) / 1e9);
  }

  static void print(Report r, Options o, PrintStream out) {
    String fmt = "| %-30s | %14s | %14s | %7s | %11s | %7s | %-4s |%n";
    out.println();
    out.printf(fmt, "case", "ours (ops/s)", "raw (ops/s)", "ratio", "min–max", "target", "ok?");
    out.printf(fmt, "-".repeat(30), "-".repeat(14), "-".repeat(14), "-".repeat(7), "-".repeat(11), "-".repeat(7),
        "-".repeat(4));
    for (Row row : r.rows()) {
      out.printf(fmt, row.name(), num(row.ours()), num(row.raw()), ratio(row.ratio()),
          Double.isNaN(row.ratioMin()) ? "-" : ratio(row.ratioMin()) + "–" + ratio(row.ratioMax()),
          Double.isNaN(row.target()) ? "-" : "≥ " + row.target(), row.ok() ? "yes" : "NO");
    }
    out.println();
    for (Row row : r.rows()) {
      out.printf("  %s: sent %,d, ours counted %,d%s; %s%n", row.name(), row.sent(), row.oursReceived(),
          row.rawReceived() >= 0 ? String.format(", raw counted %,d", row.rawReceived()) : "", row.notes());
    }
    r.skipped().forEach((k, v) -> out.printf("  %s: skipped (%s)%n", k, v));
    r.failures().forEach((k, v) -> out.printf("  %s: FAILED (%s)%n", k, v));
    out.printf("  ratio = median of the per-pair ratios (our round / the raw round run next to it), min–max over the pairs;"
        + " ours and raw = median throughput of each side%n");
    out.printf("  %s, scale %s, %d measured pair%s of rounds, %.1f s in all, %d cores, common pool parallelism %d, max heap %d MB, Java %s%n",
        o.smoke() ? "smoke mode" : "full mode", o.scale(), o.rounds(), o.rounds() == 1 ? "" : "s", r.seconds(),
        Runtime.getRuntime().availableProcessors(), ForkJoinPool.getCommonPoolParallelism(),
        Runtime.getRuntime().maxMemory() >> 20,
        System.getProperty("java.version"));
  }

  private static String num(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%,.0f", v);
  }

  private static String ratio(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.2f", v);
  }

  static void writeJson(Report r, Options o, String[] args) throws IOException {
    ObjectMapper m = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    ObjectNode root = m.createObjectNode();
    root.put("generated_at", Instant.now().toString());
    root.put("command", "Ratios " + String.join(" ", args));
    root.put("smoke", o.smoke());
    root.put("scale", o.scale());
    root.put("rounds", o.rounds());
    root.put("seconds", Math.round(r.seconds() * 10) / 10.0);
    ObjectNode machine = root.putObject("machine");
    machine.put("cores", Runtime.getRuntime().availableProcessors());
    machine.put("common_pool_parallelism", ForkJoinPool.getCommonPoolParallelism());
    machine.put("max_heap_mb", Runtime.getRuntime().maxMemory() >> 20);
    machine.put("java", System.getProperty("java.version"));
    machine.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
    ArrayNode rows = root.putArray("rows");
    for (Row row : r.rows()) {
      ObjectNode n = rows.addObject();
      n.put("case", row.name());
      putNum(n, "ours_ops_per_s", row.ours());
      putNum(n, "raw_ops_per_s", row.raw());
      putNum(n, "ratio", row.ratio());
      putNum(n, "ratio_min", row.ratioMin());
      putNum(n, "ratio_max", row.ratioMax());
      n.put("pairs", row.pairs());
      putNum(n, "target", row.target());
      n.put("ok", row.ok());
      n.put("sent", row.sent());
      n.put("ours_received", row.oursReceived());
      if (row.rawReceived() >= 0) {
        n.put("raw_received", row.rawReceived());
      } else {
        n.putNull("raw_received");
      }
      n.set("notes", m.valueToTree(row.notes()));
    }
    root.set("skipped", m.valueToTree(r.skipped()));
    root.set("failures", m.valueToTree(r.failures()));
    root.put("ok", r.ok());
    Path out = o.json();
    if (out.getParent() != null) {
      Files.createDirectories(out.getParent());
    }
    m.writeValue(out.toFile(), root);
  }

  private static void putNum(ObjectNode n, String key, double v) {
    if (Double.isNaN(v)) {
      n.putNull(key);
    } else {
      n.put(key, Math.round(v * 100) / 100.0);
    }
  }
}
