package dev.fraiseql.observers.examples.quickstart;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Runs the quickstart exactly as bin/quickstart does and asserts its printed checks passed (no servers needed). */
class QuickstartIT {
  @Test
  void quickstartDeliversWhatTheSeedDescribes() throws Exception {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    List<String> failures = Quickstart.run(Path.of("fraiseql.toml"), new PrintStream(buf, true, StandardCharsets.UTF_8));
    String out = buf.toString(StandardCharsets.UTF_8);
    assertThat(failures).as(out).isEmpty();
    assertThat(out).contains("[email-svc] POST /email/hooks/fraiseql → 200")
        .contains("\"event\":\"INSERT\",\"table\":\"tb_user\"")
        .contains("[events-svc] POST /events/ingest → 503")
        .contains("quickstart: all checks passed");
  }
}
