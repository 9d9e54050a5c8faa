package dev.fraiseql.observers.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.examples.pipeline.Pipeline;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Runs the NATS event pipeline exactly as bin/pipeline does (in-process), against the local NATS and
 * PostgreSQL, and asserts its printed checks passed and its dead letters were listed.
 */
class PipelineIT {
  @Test
  @Timeout(120)
  void rulesPublishConsumersFilterAndForwardAndTheFailingDeliveryIsDeadLettered() throws Exception {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    long t0 = System.nanoTime();
    List<String> failures = Pipeline.run(Path.of("pipeline"), new PrintStream(buf, true, StandardCharsets.UTF_8));
    String out = buf.toString(StandardCharsets.UTF_8);
    assertThat(failures).as(out).isEmpty();
    assertThat(out).as(out)
        .contains("[orders] INSERT o-2002 status=placed total=2500.00 → fraiseql.order.created: DELIVERED (stored at 2)")
        .contains("[orders] UPDATE o-2001 status=shipped total=40.00 → fraiseql.order.updated: DELIVERED")
        .contains("[fraud-check] o-2001 order.created: condition false, not forwarded")
        .contains("[ship-notice] o-2002 order.updated: condition false, not forwarded")
        .contains("[fraud-check] POST → 500  o-2003 order.created (attempt 3)")
        .contains("dead letters (1, in PostgreSQL table")
        .contains("handler=fraud-check")
        .contains("reason: budget spent after 3 deliveries: HTTP 500")
        .contains("PASS exactly one dead letter: fraud-check × o-2003, budget spent after 3 deliveries")
        .doesNotContain("FAIL ")
        .contains("pipeline: all checks passed");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(60));
    assertThat(Cleanup.leftovers("pipeline", Cleanup.runId("pipeline", out))).as("left behind").isEmpty();
  }
}
