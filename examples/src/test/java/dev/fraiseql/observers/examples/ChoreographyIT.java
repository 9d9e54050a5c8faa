package dev.fraiseql.observers.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.examples.choreography.Choreography;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Runs the choreography exactly as bin/choreography does (in-process), against the local NATS and
 * PostgreSQL, and asserts its printed checks passed.
 */
class ChoreographyIT {
  @Test
  @Timeout(120)
  void everyOrderIsReservedOnceAndNotifiedOnceDespiteADuplicateAndTransientFailures() throws Exception {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    long t0 = System.nanoTime();
    List<String> failures = Choreography.run(Path.of("choreography"), new PrintStream(buf, true, StandardCharsets.UTF_8));
    String out = buf.toString(StandardCharsets.UTF_8);
    assertThat(failures).as(out).isEmpty();
    assertThat(out).as(out)
        .contains("[order-service] committed o-1001 (alice@example.com")
        .contains("fraiseql.order.created: DUPLICATE (duplicate, stored once at 1)")
        .contains("PASS order o-1001 reserved exactly once {MUG-RED=2, TEE-L=1}")
        .contains("PASS order o-1004 notified exactly once (to dave@example.com)")
        .contains("PASS duplicate delivery of o-1001 reached inventory-service and was skipped (effectively_once)")
        .contains("PASS duplicate delivery of o-1001 reached notification-service and was skipped (effectively_once)")
        .contains("SQLSTATE 40001")
        .contains("[mail-server] RCPT TO:<carol@example.com> → 451 4.7.1 Greylisted, please try again later (injected once)")
        .contains("PASS transient failure: the mail server answered 451 once to o-1003's recipient, the email was sent again and accepted")
        .contains("PASS the mailbox holds 4 confirmation emails over SMTP")
        .contains("to carol@example.com  \"Your order o-1003 is confirmed\"  <")
        .contains("PASS no dead letters in any service")
        .contains("PASS order-service made no publish call: its capture trigger recorded each of the 4 orders")
        .contains("PASS each service recorded one idempotency key per order in its own database")
        .doesNotContain("FAIL ")
        .contains("choreography: all checks passed");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(60));
    assertThat(Cleanup.leftovers("choreo", Cleanup.runId("choreography", out))).as("left behind").isEmpty();
  }
}
