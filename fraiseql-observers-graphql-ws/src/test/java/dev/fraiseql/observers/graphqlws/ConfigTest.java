package dev.fraiseql.observers.graphqlws;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.config.ObserversConfig;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ConfigTest {

  @Test
  void theSeedDecoratorAsTomlGivesItsSchema() {
    try (GraphQLWs ws = GraphQLWs.builder().configToml(Fixtures.SUBSCRIPTIONS, "fraiseql.toml")
        .authenticator(Authenticator.anonymous()).build()) {
      SubscriptionDefinition d = ws.definitions().get(0);
      assertThat(d.field()).isEqualTo("orderUpdated");
      assertThat(d.table()).isEqualTo("tb_order"); // tb_ + entity_type, as the seed's naming rule
      assertThat(d.operation()).contains(Operation.UPDATE);
      assertThat(d.arguments()).containsExactly(Map.entry("customerId", "customer_id"));
      assertThat(ws.schemaSdl()).contains("orderUpdated(", "customerId: ID", "customerId: ID", "total: Float",
          "type Subscription", "type Order");
    }
  }

  @Test
  void coreAcceptsTheSectionBesideObservers() {
    // the core loader ignores top-level tables other than [observers]: no core change is needed
    ObserversConfig c = ObserversConfig.parse(Fixtures.TOML, "fraiseql.toml");
    assertThat(c.handlers()).extracting(h -> h.name()).containsExactly("orders-to-browsers");
  }

  @Test
  void seed000RuleFormLoadsToo() {
    String toml = """
        [observers]
        backend = "in-memory"
        [[observers]]
        table = "tb_order"
        event = "UPDATE"
        subject = "fraiseql.order.updated"
        """ + Fixtures.SUBSCRIPTIONS;
    assertThat(GraphQLWs.builder().configToml(toml, "fraiseql.toml").authenticator(Authenticator.anonymous()).build()
        .definitions()).hasSize(2);
  }

  @Test
  void mistakesAreReportedTogetherWithLinesAndFixes() {
    String toml = """
        [graphql_ws]
        bufer_size = 3
        slow_client = "drop_newest"

        [[graphql_ws.subscriptions]]
        field = "orderUpdated"
        entity_type = "Order"
        operation = "UPSERT"
        fields = { id = "ID", total = "Money" }
        """;
    assertThatThrownBy(() -> GraphQLWs.builder().configToml(toml, "fraiseql.toml"))
        .isInstanceOf(ObserverConfigException.class)
        .hasMessageContaining("fraiseql.toml:2:1")
        .hasMessageContaining("unknown key `bufer_size` in [graphql_ws] — did you mean `buffer_size`?")
        .hasMessageContaining("fraiseql.toml:3:")
        .hasMessageContaining("drop_oldest")
        .hasMessageContaining("unknown operation \"UPSERT\"")
        .hasMessageContaining("field `total` has type \"Money\"");
  }

  @Test
  void declarationsInCode() {
    SubscriptionDefinition d = SubscriptionDefinition.of("orderShipped", "Order", Optional.of(Operation.UPDATE),
        Map.of(), Map.of("id", "ID"));
    assertThat(d.table()).isEqualTo("tb_order");
    assertThat(SubscriptionDefinition.defaultTable("OrderLine")).isEqualTo("tb_order_line");
    assertThatThrownBy(() -> SubscriptionDefinition.of("order-shipped", "Order", Optional.empty(), Map.of(),
        Map.of("id", "ID"))).hasMessageContaining("not a GraphQL name");
    assertThatThrownBy(() -> GraphQLWs.builder().subscription(d).build()).hasMessageContaining("no authenticator");
  }
}
