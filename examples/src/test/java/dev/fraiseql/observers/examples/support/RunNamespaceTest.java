package dev.fraiseql.observers.examples.support;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.config.CheckpointStrategy;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.SubscriptionConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The run namespace moves every subject of the example configs, and nothing else. */
class RunNamespaceTest {
  private static final RunNamespace NS = new RunNamespace("choreo", "ab12cd");

  private static ObserversConfig load(String file) {
    Map<String, String> env = Map.of("NATS_URL", "nats://127.0.0.1:4222", "EMAIL_SERVICE_URL", "http://127.0.0.1:1/send",
        "FRAUD_CHECK_URL", "http://127.0.0.1:1/f", "FULFILMENT_URL", "http://127.0.0.1:1/s");
    return ObserversConfig.load(Path.of(file), name -> Optional.ofNullable(env.get(name)));
  }

  @Test
  void orderServiceRulesPublishIntoTheRunsNamespaceAndStream() {
    ObserversConfig original = load("choreography/order-service/fraiseql.toml");
    ObserversConfig moved = NS.apply(original);
    assertThat(original.handlers()).extracting(h -> h.settings().string("subject").orElseThrow())
        .containsExactly("fraiseql.order.created", "fraiseql.order.updated");
    assertThat(moved.handlers()).extracting(h -> h.settings().string("subject").orElseThrow())
        .containsExactly("choreo_ab12cd.fraiseql.order.created", "choreo_ab12cd.fraiseql.order.updated");
    assertThat(moved.handlers()).extracting(HandlerConfig::name, HandlerConfig::action, HandlerConfig::trigger)
        .isEqualTo(original.handlers().stream().map(h -> org.assertj.core.groups.Tuple.tuple(h.name(), h.action(), h.trigger()))
            .toList());
    assertThat(moved.backend()).isEqualTo("nats");
    assertThat(moved.backendSettings().string("nats_url")).contains("nats://127.0.0.1:4222");
    assertThat(moved.backendSettings().string("stream")).contains("CHOREO_AB12CD");
    assertThat(moved.backendSettings().stringList("subjects")).containsExactly("choreo_ab12cd.>");
  }

  @Test
  void inventorySubscriptionKeepsItsHandlerDurableAndCheckpointStrategy() {
    ObserversConfig original = load("choreography/inventory-service/fraiseql.toml");
    ObserversConfig moved = NS.apply(original);
    assertThat(original.subscriptions()).singleElement().satisfies(s -> {
      assertThat(s.subject()).isEqualTo("fraiseql.order.created");
      assertThat(s.handler()).isEqualTo("fn_reserve_inventory");
    });
    SubscriptionConfig s = moved.subscriptions().get(0);
    assertThat(s.subject()).isEqualTo("choreo_ab12cd.fraiseql.order.created");
    assertThat(s.handler()).isEqualTo("fn_reserve_inventory");
    assertThat(s.durable()).isEqualTo(original.subscriptions().get(0).durable());
    assertThat(moved.checkpointStrategy()).isEqualTo(CheckpointStrategy.EFFECTIVELY_ONCE);
  }

  @Test
  void pipelineConsumersKeepConditionsRetryBudgetsAndActionSettings() {
    ObserversConfig original = load("pipeline/fraiseql.toml");
    ObserversConfig moved = NS.apply(original);
    assertThat(moved.subscriptions()).extracting(SubscriptionConfig::subject)
        .containsExactly("choreo_ab12cd.fraiseql.order.created", "choreo_ab12cd.fraiseql.order.updated");
    for (int i = 0; i < 2; i++) {
      SubscriptionConfig a = original.subscriptions().get(i);
      SubscriptionConfig b = moved.subscriptions().get(i);
      assertThat(b.condition()).isEqualTo(a.condition()).isPresent();
      assertThat(b.retry().maxAttempts()).isEqualTo(3);
      assertThat(b.retry().maxAttempts()).isEqualTo(a.retry().maxAttempts());
      assertThat(b.settings().asMap()).isEqualTo(a.settings().asMap()).containsKeys("action", "url");
    }
    assertThat(moved.deadLetterStore()).contains("postgres");
    assertThat(moved.backendSettings("postgres").asMap()).isEqualTo(original.backendSettings("postgres").asMap());
    assertThat(List.of(NS.subject("x.y"), NS.prefix(), NS.stream()))
        .containsExactly("choreo_ab12cd.x.y", "choreo_ab12cd", "CHOREO_AB12CD");
  }
}
