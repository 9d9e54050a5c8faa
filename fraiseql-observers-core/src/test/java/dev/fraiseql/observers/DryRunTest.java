package dev.fraiseql.observers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.config.ConfigProblem;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DryRunTest {
  static final String TOML = String.join("\n",
      "[[observers.rules]]",
      "table = \"tb_order\"",
      "event = \"INSERT\"",
      "subject = \"fraiseql.order.created\"",
      "",
      "[[observers.rules]]",
      "name = \"big\"",
      "table = \"tb_order\"",
      "event = \"INSERT\"",
      "condition = \"total >= 100\"",
      "subject = \"fraiseql.order.big\"",
      "",
      "[[observers.handlers]]",
      "name = \"audit\"",
      "event = \"order.created\"",
      "action = \"audit-log\"",
      "");

  @Test
  void explainTellsWhichHandlersFireInDefinitionOrderAndWhatTheyWouldSend() {
    try (DryRun plan = ObserverEngine.builder().configToml(TOML).handler("audit-log", e -> { }).dryRun()) {
      assertThat(plan.handlers()).extracting(h -> h.config().name())
          .containsExactly("fraiseql.order.created", "big", "audit");
      ObservedEvent small = ObservedEvent.insert("tb_order", Map.of("id", 1, "total", 20));
      List<DryRun.Match> m = plan.explain(small);
      assertThat(m).extracting(x -> x.handler().name()).containsExactly("fraiseql.order.created", "big", "audit");
      assertThat(m).extracting(DryRun.Match::conditionHolds).containsExactly(true, false, true);
      assertThat(m.get(0).preview()).hasValueSatisfying(p -> {
        assertThat(p.target()).isEqualTo("publish to fraiseql.order.created on in-memory");
        assertThat(p.body()).isEqualTo(new String(small.toJson(), StandardCharsets.UTF_8));
        assertThat(p.headers()).containsEntry("Fraiseql-Event-Id", small.id().toString());
      });
      assertThat(m.get(1).preview()).isEmpty();      // skipped: nothing to send
      assertThat(m.get(2).preview()).isEmpty();      // a Java handler cannot tell
      assertThat(plan.explain(ObservedEvent.insert("tb_user", Map.of("id", 1)))).isEmpty();
    }
  }

  @Test
  void validateListsEveryProblemWithoutStartingAnything() {
    String broken = TOML.replace("condition = \"total >= 100\"", "condition = \"total >= \"")
        .replace("action = \"audit-log\"", "action = \"audit-log\"\nmax_atempts = 2");
    List<ConfigProblem> problems = ObserverEngine.builder().config(broken, "orders.toml").validate();
    assertThat(problems).extracting(ConfigProblem::toString)
        .anySatisfy(p -> assertThat(p).startsWith("orders.toml:17:").contains("max_atempts").contains("max_attempts"))
        .anySatisfy(p -> assertThat(p).startsWith("orders.toml:10:").contains("invalid condition"));
    // once the loader is satisfied, the engine's own checks (actions and their keys) are reported
    assertThat(ObserverEngine.builder().config(TOML, "orders.toml").validate()).extracting(ConfigProblem::toString)
        .anySatisfy(p -> assertThat(p).startsWith("orders.toml:").contains("unknown action `audit-log`"));
    assertThat(ObserverEngine.builder().configToml(TOML).handler("audit-log", e -> { }).validate()).isEmpty();
  }
}
