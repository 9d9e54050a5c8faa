package dev.fraiseql.observers.benchmarks;

import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.Operation;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The payload every case sends: the seed's order event, a {@code tb_order} INSERT with id,
 * customer_id, total, status and items (about 250 bytes of row JSON, ~400 with the envelope).
 */
final class Payload {
  static final String TABLE = "tb_order";
  static final String EVENT_NAME = "order.created";
  static final String SUBJECT = "fraiseql.order.created";

  private Payload() {}

  /** A fresh order event (new UUID v7 id, now as its timestamp). */
  static ObservedEvent order(long n) {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("id", new UUID(0x0193_0000_0000_7000L, n).toString());
    row.put("customer_id", "7c9e6679-7425-40de-944b-e07fc1f90ae7");
    row.put("total", new BigDecimal("129.90"));
    row.put("status", "pending");
    row.put("items", List.of(
        Map.of("sku", "SKU-1001", "qty", 2, "price", new BigDecimal("49.95")),
        Map.of("sku", "SKU-2002", "qty", 1, "price", new BigDecimal("30.00"))));
    return ObservedEvent.builder().operation(Operation.INSERT).table(TABLE).mutation("createOrder")
        .newRow(row).context(MutationContext.empty()).build();
  }

  /** {@code size} distinct order events, built up front (size is rounded up to a power of two). */
  static ObservedEvent[] ring(int size) {
    int n = Integer.highestOneBit(Math.max(1, size - 1)) << 1;
    ObservedEvent[] out = new ObservedEvent[n];
    for (int i = 0; i < n; i++) {
      out[i] = order(i);
    }
    return out;
  }
}
