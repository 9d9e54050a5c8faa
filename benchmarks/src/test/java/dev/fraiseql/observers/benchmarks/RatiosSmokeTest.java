package dev.fraiseql.observers.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Ratios in smoke mode for the core case (no servers): it runs, counts match, the JSON is written. */
class RatiosSmokeTest {

  @Test
  @Timeout(30)
  void coreSmokeProducesRowsWithPositiveMatchingCounts(@TempDir Path dir) throws Exception {
    Path json = dir.resolve("ratios.json");
    Options o = Options.parse("--smoke", "--case=core", "--json=" + json);
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    Ratios.Report r = Ratios.run(o, new PrintStream(log, true, StandardCharsets.UTF_8));

    assertThat(r.failures()).as(log.toString(StandardCharsets.UTF_8)).isEmpty();
    assertThat(r.rows()).extracting(Row::name).containsExactly("core (10 rules)", "core (10,000 rules)");
    for (Row row : r.rows()) {
      assertThat(row.sent()).isPositive();
      assertThat(row.oursReceived()).isEqualTo(row.sent());
      assertThat(row.rawReceived()).isEqualTo(row.sent());
      assertThat(row.ours()).isPositive();
      assertThat(row.raw()).isPositive();
      assertThat(row.notes()).containsKeys("onCommit_p50_us", "onCommit_p99_us", "onCommit_p999_us");
      assertThat(row.pairs()).isEqualTo(1);
      assertThat(row.ratio()).isPositive().isEqualTo(row.ratioMin()).isEqualTo(row.ratioMax());
    }
    assertThat(r.ok()).isTrue();

    Ratios.writeJson(r, o, new String[] {"--smoke", "--case=core"});
    String written = Files.readString(json);
    assertThat(written).contains("\"case\" : \"core (10 rules)\"", "\"ours_received\" : " + r.rows().get(0).sent(), "\"ok\" : true");
  }

  @Test
  @Timeout(30)
  void pairedRoundsReportTheMedianRatioWithItsRange() throws Exception {
    // ours takes ~2 ms per round; raw ~1 ms in even pairs and ~4 ms in odd ones, so the per-pair ratios
    // differ by design and the median must sit between min and max
    int[] rawRuns = {0};
    Bench.Side ours = n -> {
      Thread.sleep(2);
      return n;
    };
    Bench.Side raw = n -> {
      Thread.sleep(rawRuns[0]++ % 2 == 0 ? 1 : 4);
      return n;
    };
    Bench.Comparison c = Bench.compare(Options.parse("--rounds=5"), 10, ours, raw);
    assertThat(c.pairs()).isEqualTo(5);
    assertThat(c.sent()).isEqualTo(50);
    assertThat(c.oursReceived()).isEqualTo(50);
    assertThat(c.rawReceived()).isEqualTo(50);
    assertThat(c.ratioMin()).isLessThan(c.ratioMax());
    assertThat(c.ratio()).isBetween(c.ratioMin(), c.ratioMax());
    Row row = Row.ratio("x", c, 0.5, java.util.Map.of());
    assertThat(row.ratio()).isEqualTo(c.ratio());
    assertThat(row.ok()).isEqualTo(c.ratio() >= 0.5);
  }

  @Test
  void optionsRejectUnknownCasesAndArguments() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Options.parse("--case=kafka"))
        .hasMessageContaining("unknown case `kafka`").hasMessageContaining("(cases: core, webhook, nats, nats-cluster, redis, pg,").hasMessageContaining("capture").hasMessageContaining("memory");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Options.parse("--scale=0"))
        .hasMessageContaining("--scale must be positive");
    assertThat(Options.parse("--scale=0.5").count(1000, 10)).isEqualTo(500);
    assertThat(Options.parse("--smoke", "--scale=5").count(1000, 10)).isEqualTo(10);
  }

  @Test
  void percentilesAreNearestRank() {
    long[] v = new long[1000];
    for (int i = 0; i < v.length; i++) {
      v[i] = i + 1;
    }
    assertThat(Bench.percentile(v, 0.5)).isEqualTo(500);
    assertThat(Bench.percentile(v, 0.99)).isEqualTo(990);
    assertThat(Bench.percentile(v, 0.999)).isEqualTo(999);
  }
}
