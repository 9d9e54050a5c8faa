package dev.fraiseql.observers.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The commands in-process (the ITs run the built jar as a separate process). */
class FraiseqlObserversCliTest {
  @TempDir
  Path dir;

  record Run(int exit, String out, String err) {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = FraiseqlObserversCli.run(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void validateExitCodes() throws Exception {
    Path ok = dir.resolve("ok.toml");
    Files.writeString(ok, "[[observers.rules]]\ntable = \"tb_order\"\nevent = \"INSERT\"\nsubject = \"fraiseql.order.created\"\n");
    Run r = run("validate", ok.toString());
    assertThat(r.exit()).isEqualTo(FraiseqlObserversCli.OK);
    assertThat(r.out()).contains(ok + ": valid — backend in-memory, 1 handler, 0 subscriptions");

    Path bad = dir.resolve("bad.toml");
    Files.writeString(bad, "[observers]\nbakend = \"nats\"\n");
    Run b = run("validate", bad.toString());
    assertThat(b.exit()).isEqualTo(FraiseqlObserversCli.FAILED);
    assertThat(b.out()).contains(bad + ":2:1: unknown key `bakend`").contains("did you mean `backend`");

    assertThat(run("validate", "--nope").exit()).isEqualTo(FraiseqlObserversCli.USAGE);
    assertThat(run("validate", dir.resolve("missing.toml").toString()).exit()).isEqualTo(FraiseqlObserversCli.USAGE);
    assertThat(run().exit()).isEqualTo(FraiseqlObserversCli.USAGE);
  }

  @Test
  void unknownActionSuggestsDeclaringTheJavaHandler() throws Exception {
    Path toml = dir.resolve("java.toml");
    Files.writeString(toml, "[[observers.handlers]]\nname = \"reserve\"\nevent = \"order.created\"\naction = \"reserveInventory\"\n");
    Run r = run("validate", toml.toString());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.out()).contains("unknown action `reserveInventory`").contains("--java-handler");
    Run declared = run("--java-handler", "reserveInventory", "validate", toml.toString());
    assertThat(declared.exit()).isZero();
    assertThat(declared.out()).contains("Java handler `reserveInventory` is registered by the application");
  }

  @Test
  void explainGroupsHandlersByTriggerInDefinitionOrder() throws Exception {
    Path toml = dir.resolve("fraiseql.toml");
    Files.writeString(toml, String.join("\n",
        "[[observers.rules]]", "table = \"tb_order\"", "event = \"INSERT\"", "subject = \"fraiseql.order.created\"",
        "[[observers.rules]]", "table = \"tb_order\"", "event = \"UPDATE\"", "subject = \"fraiseql.order.updated\"",
        "[[observers.rules]]", "name = \"big\"", "table = \"tb_order\"", "event = \"INSERT\"", "condition = \"total > 100\"",
        "subject = \"fraiseql.order.big\"", "max_attempts = 7", ""));
    Run r = run("-c", toml.toString(), "explain", "--color=never");
    assertThat(r.exit()).as(r.err()).isZero();
    String[] lines = r.out().split("\n");
    assertThat(r.out()).containsPattern("tb_order INSERT\\s+1\\s+fraiseql.order.created\\s+-\\s+publish to fraiseql.order.created on in-memory")
        .containsPattern("(?m)^\\s+2\\s+big\\s+total > 100\\s+publish to fraiseql.order.big on in-memory\\s+7× exponential 1s..60s ±20%, 30s per attempt\\s+no$")
        .containsPattern("tb_order UPDATE\\s+1\\s+fraiseql.order.updated");
    assertThat(r.out().indexOf("fraiseql.order.big")).isLessThan(r.out().indexOf("tb_order UPDATE"));
    assertThat(lines[2]).startsWith("EVENT").contains("HANDLER").contains("RETRY BUDGET");
  }
}
