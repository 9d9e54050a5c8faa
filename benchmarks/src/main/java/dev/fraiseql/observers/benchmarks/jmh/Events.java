package dev.fraiseql.observers.benchmarks.jmh;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.Operation;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The order event of the ratio harness, for the micro benchmarks. */
final class Events {
  private Events() {}

  static ObservedEvent order() {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("id", "01930000-0000-7000-0000-000000000001");
    row.put("customer_id", "7c9e6679-7425-40de-944b-e07fc1f90ae7");
    row.put("total", new BigDecimal("129.90"));
    row.put("status", "pending");
    row.put("items", List.of(
        Map.of("sku", "SKU-1001", "qty", 2, "price", new BigDecimal("49.95")),
        Map.of("sku", "SKU-2002", "qty", 1, "price", new BigDecimal("30.00"))));
    return ObservedEvent.builder().operation(Operation.INSERT).table("tb_order").mutation("createOrder").newRow(row).build();
  }
}
