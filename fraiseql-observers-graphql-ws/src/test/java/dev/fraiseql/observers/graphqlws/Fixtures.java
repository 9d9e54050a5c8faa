package dev.fraiseql.observers.graphqlws;

import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.Operation;
import java.util.LinkedHashMap;
import java.util.Map;

/** The shared test configuration: orders, two tenants, an authenticator reading a token. */
final class Fixtures {
  private Fixtures() {}

  static final String SUBSCRIPTIONS = """
      [graphql_ws]
      connection_init_timeout_ms = 600
      keep_alive_ms = 0

      [[graphql_ws.subscriptions]]
      field = "orderUpdated"
      entity_type = "Order"
      operation = "UPDATE"
      arguments = { customerId = "customer_id" }
      fields = { id = "ID", status = "String", customer_id = "ID", total = "Float", note = "String" }

      [[graphql_ws.subscriptions]]
      field = "orderCreated"
      entity_type = "Order"
      table = "tb_order"
      operation = "INSERT"
      fields = { id = "ID", status = "String", customer_id = "ID", total = "Float", note = "String" }
      """;

  /** The engine's part: route every tb_order event to the graphql-ws handler. */
  static final String ENGINE = """
      [observers]
      backend = "in-memory"

      [[observers.handlers]]
      name = "orders-to-browsers"
      table = "tb_order"
      action = "graphql-ws"
      """;

  static final String TOML = ENGINE + "\n" + SUBSCRIPTIONS;

  /** token "t1-..." is tenant t1, "t2-..." tenant t2; "bad" is refused (4403); no token 4401. */
  static final Authenticator AUTH = init -> {
    String token = init.string("token").orElseThrow(() -> ConnectionRefusedException.unauthorized("Unauthorized: no token"));
    if (token.equals("bad")) {
      throw ConnectionRefusedException.forbidden("Forbidden");
    }
    String[] parts = token.split("-", 2);
    return MutationContext.builder().tenantId(parts[0]).userId(parts.length > 1 ? parts[1] : "?").build();
  };

  static ObservedEvent update(String tenant, String id, String customer, String status) {
    return event(Operation.UPDATE, tenant, id, customer, status, "");
  }

  static ObservedEvent event(Operation op, String tenant, String id, String customer, String status, String note) {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("id", id);
    row.put("customer_id", customer);
    row.put("status", status);
    row.put("total", 42.5);
    row.put("note", note);
    ObservedEvent.Builder b = ObservedEvent.builder().operation(op).table("tb_order")
        .context(MutationContext.builder().tenantId(tenant).userId("writer").build());
    if (op != Operation.INSERT) {
      Map<String, Object> old = new LinkedHashMap<>(row);
      old.put("status", "previous");
      b.oldRow(old);
    }
    if (op != Operation.DELETE) {
      b.newRow(row);
    }
    return b.build();
  }
}
