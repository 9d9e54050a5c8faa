package dev.fraiseql.observers.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ratios in smoke mode for the cases that need servers (and the memory case): each one that is built
 * runs against the real server and its receivers count exactly what was sent. A case whose server is
 * down fails the test (CI runs the services); a case whose module is not built yet is reported skipped.
 */
class RatiosSmokeIT {

  @Test
  @Timeout(30)
  void serverCasesRunAndCountWhatTheySent(@TempDir Path dir) {
    // nats-cluster needs the extra servers of bin/cluster (ports 14222-14224): run by hand with the cluster up
    List<String> built = Ratios.cases().stream().map(BenchCase::name)
        .filter(n -> !n.equals("core") && !n.equals("nats-cluster")).collect(Collectors.toList());
    Options o = Options.parse("--smoke", "--case=" + String.join(",", built), "--json=" + dir.resolve("r.json"));
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    Ratios.Report r = Ratios.run(o, new PrintStream(log, true, StandardCharsets.UTF_8));
    String out = log.toString(StandardCharsets.UTF_8);

    assertThat(r.failures()).as(out).isEmpty();
    assertThat(r.skipped()).as("servers must be up for the ITs: " + out).isEmpty();
    // every case ran to its end (a case's rows need not carry its name: observability's are "core + ...")
    for (String name : built) {
      assertThat(out).as(name).containsPattern("(?m)^" + java.util.regex.Pattern.quote(name) + "\\s+done in ");
    }
    assertThat(r.rows()).as(out).hasSizeGreaterThanOrEqualTo(built.size());
    for (Row row : r.rows()) {
      assertThat(row.sent()).as(row.name()).isPositive();
      assertThat(row.oursReceived()).as(row.name()).isEqualTo(row.sent());
      if (row.rawReceived() >= 0) {
        assertThat(row.rawReceived()).as(row.name()).isEqualTo(row.sent());
      }
    }
    assertThat(r.ok()).isTrue();
  }
}
