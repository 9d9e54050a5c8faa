package dev.fraiseql.observers.nats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.config.ConfigLocation;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.nats.internal.NatsSettings;
import dev.fraiseql.observers.testkit.CapturedStderr;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Issue 16, NATS side: a bad {@code nats_url} is a config problem, and a variable's value stays out of the log. */
class NatsBadInputTest {
  private static final String SUBSCRIPTION = String.join("\n", "[observers]", "backend = \"nats\"",
      "nats_url = \"%s\"", "[[observers.subscribe]]", "subject = \"fraiseql.order.created\"",
      "handler = \"fn_reserve_inventory\"");

  @Test
  void aMalformedUrlWithASubscriptionFailsTheBuildAsAConfigProblemNotJnatsException() {
    for (String bad : new String[] {"nats://$yNATS_URL}", "nats://local\u202Ehost:4222", "nats://h:4222,nats://x y"}) {
      ObserverConfigException e = catchThrowableOfType(ObserverConfigException.class, () -> ObserverEngine.builder()
          .config(SUBSCRIPTION.formatted(bad), "fraiseql.toml").handler("fn_reserve_inventory", ev -> { })
          .build().close());
      assertThat(e).as(bad).isNotNull();
      assertThat(e.problems()).singleElement().satisfies(p -> {
        assertThat(p.location().toString()).isEqualTo("fraiseql.toml:3:1");
        assertThat(p.key()).isEqualTo("nats_url");
        assertThat(p.fix()).startsWith("write it as nats://host:4222");
      });
    }
  }

  @Test
  void settingsBuiltInCodeAreCheckedByTheSameRule() {
    Settings s = Settings.builder(new ConfigLocation("<code>", 0, 0, "[observers]"))
        .put("nats_url", "nats://$yNATS_URL}", null).build();
    ObserverConfigException e = catchThrowableOfType(ObserverConfigException.class,
        () -> NatsSettings.parse(s, k -> Optional.empty()));
    assertThat(e).isNotNull();
    assertThat(e.getMessage()).contains("`nats_url` (nats://$yNATS_URL}) is not a valid NATS URL");
  }

  @Test
  void anUnreachableServerFromAVariableIsLoggedByTheVariableNotItsValue() throws Exception {
    String log = CapturedStderr.during(() -> {
      try (ObserverEngine engine = ObserverEngine.builder().config(SUBSCRIPTION.formatted("${TOKEN}"), "fraiseql.toml")
          .env(Map.of("TOKEN", "s3cr3t-xyz.invalid")).handler("fn_reserve_inventory", ev -> { }).build()) {
        Thread.sleep(3000); // the first failed attempt is logged at once (".invalid" never resolves)
      }
    });
    assertThat(log).contains("NATS at ${TOKEN} is not reachable").doesNotContain("s3cr3t");
  }
}
