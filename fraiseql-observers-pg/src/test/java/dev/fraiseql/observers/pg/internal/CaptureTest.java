package dev.fraiseql.observers.pg.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.config.ObserversConfig;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class CaptureTest {

  private static ObserversConfig load(String toml) {
    return ObserversConfig.parse(toml, "fraiseql.toml", name -> Optional.of("http://127.0.0.1:1/x"));
  }

  @Test
  void namesFoldUnquotedKeepQuotedAndAlwaysRenderQuoted() {
    assertThat(CaptureName.parse("tb_User").quoted()).isEqualTo("\"tb_user\"");
    assertThat(CaptureName.parse("Sales.Orders").quoted()).isEqualTo("\"sales\".\"orders\"");
    CaptureName q = CaptureName.parse("\"Sales\".\"Order \"\"Lines\"\"\"");
    assertThat(q.schema()).contains("Sales");
    assertThat(q.name()).isEqualTo("Order \"Lines\"");
    assertThat(q.quoted()).isEqualTo("\"Sales\".\"Order \"\"Lines\"\"\"");
    assertThat(CaptureName.parse("\"a.b\"").name()).isEqualTo("a.b");
    assertThatThrownBy(() -> CaptureName.parse("x; DROP TABLE y")).hasMessageContaining("not a valid SQL name");
    assertThatThrownBy(() -> CaptureName.parse("a.b.c")).hasMessageContaining("schema.name");
    assertThatThrownBy(() -> CaptureName.parse("\"open")).hasMessageContaining("unterminated");
    assertThatThrownBy(() -> CaptureName.parse("a.")).hasMessageContaining("empty");
    assertThat(CaptureName.literal("it's \\ here")).isEqualTo("E'it''s \\\\ here'");
  }

  @Test
  void planTakesRuleTablesHandlerEventsAndExplicitMappingsOnlyForTheirOperations() {
    CapturePlan plan = CapturePlan.from(load("""
        [observers.postgres]
        capture = "triggers"

        [[observers.capture]]
        table = "sales.orders"
        entity = "order"
        exclude_columns = ["card_token"]

        [[observers.rules]]
        table = "tb_invoice"
        event = "INSERT"
        subject = "x"

        [[observers.handlers]]
        name = "welcome-email"
        event = "user.created"
        action = "webhook"
        webhook_url = "${URL}"

        [[observers.handlers]]
        name = "ship"
        event = "order.updated"
        action = "webhook"
        webhook_url = "${URL}"

        [[observers.handlers]]
        name = "custom"
        event = "order.shipped"
        action = "webhook"
        webhook_url = "${URL}"
        """));
    assertThat(plan.enabled()).isTrue();
    assertThat(plan.install()).isTrue();
    Map<String, CapturePlan.Table> byTable = new java.util.HashMap<>();
    plan.tables().forEach(t -> byTable.put(t.tableText(), t));
    assertThat(byTable).containsOnlyKeys("sales.orders", "tb_invoice", "tb_user");
    assertThat(byTable.get("sales.orders").operations()).containsExactly(Operation.UPDATE);
    assertThat(byTable.get("sales.orders").entity()).isEqualTo("order");
    assertThat(byTable.get("sales.orders").excluded()).containsExactly("card_token");
    assertThat(byTable.get("tb_invoice").operations()).containsExactly(Operation.INSERT);
    assertThat(byTable.get("tb_user").operations()).containsExactly(Operation.INSERT);
  }

  @Test
  void badEntriesAreConfigErrorsNamingKeyAndEntry() {
    assertThatThrownBy(() -> CapturePlan.from(load("""
        [observers.postgres]
        capture = "trigger"
        """))).isInstanceOf(ObserverConfigException.class).hasMessageContaining("use capture = \"triggers\"");
    assertThatThrownBy(() -> CapturePlan.from(load("""
        [observers.postgres]
        capture = "triggers"
        [[observers.capture]]
        table = "tb_user"
        exclude_colums = ["password_hash"]
        """))).isInstanceOf(ObserverConfigException.class).hasMessageContaining("exclude_colums")
        .hasMessageContaining("[[observers.capture]] #1").hasMessageContaining("exclude_columns");
    assertThatThrownBy(() -> CapturePlan.from(load("""
        [observers.postgres]
        capture = "triggers"
        [[observers.capture]]
        table = "tb_user"
        columns = ["a"]
        exclude_columns = ["b"]
        """))).isInstanceOf(ObserverConfigException.class).hasMessageContaining("keep one of them");
    // off by default: nothing enabled
    assertThat(CapturePlan.from(load("[observers]\nbackend = \"in-memory\"\n")).enabled()).isFalse();
  }

  @Test
  void captureRowsSplitIntoDefaultEventJsonWithStableIds() {
    UUID base = UUID.fromString("01a241fb-c510-73e6-ba44-a49500000000");
    String row = "{\"capture\":1,\"event\":\"UPDATE\",\"table\":\"tb_user\",\"timestamp\":\"2026-02-25T10:00:00.000Z\","
        + "\"key\":[\"id\"],\"context\":{\"event_name\":\"user.updated\",\"user_id\":\"u-1\"},\"rows\":["
        + "{\"new\":{\"id\":1,\"name\":\"caf\u00e9 \\\"x\\\"\"},\"old\":{\"id\":1,\"name\":\"a\"}},"
        + "{\"new\":{\"id\":2,\"total\":41.50},\"old\":{\"id\":2,\"total\":1}}]}";
    byte[] bytes = row.getBytes(StandardCharsets.UTF_8);
    assertThat(CaptureRows.isCapture(bytes)).isTrue();
    List<byte[]> events = CaptureRows.split(base, bytes);
    assertThat(events).hasSize(2);
    assertThat(new String(events.get(0), StandardCharsets.UTF_8)).isEqualTo("{\"id\":\"" + base
        + "\",\"event\":\"UPDATE\",\"table\":\"tb_user\",\"timestamp\":\"2026-02-25T10:00:00.000Z\",\"data\":"
        + "{\"new\":{\"id\":1,\"name\":\"caf\u00e9 \\\"x\\\"\"},\"old\":{\"id\":1,\"name\":\"a\"}},\"context\":"
        + "{\"event_name\":\"user.updated\",\"user_id\":\"u-1\"}}");
    ObservedEvent second = ObservedEvent.fromJson(events.get(1));
    assertThat(second.id()).isEqualTo(UUID.fromString("01a241fb-c510-73e6-ba44-a49500000001"));
    assertThat(second.name()).isEqualTo("user.updated");
    assertThat(second.context().userId()).contains("u-1");
    assertThat(second.toJsonString()).contains("\"total\":41.50"); // the bytes are kept: 41.50 stays 41.50
    // the low 32 bits wrap inside the id, never touching version or variant
    UUID high = UUID.fromString("01a241fb-c510-73e6-ba44-a495ffffffff");
    assertThat(CaptureRows.eventId(high, 1)).isEqualTo(UUID.fromString("01a241fb-c510-73e6-ba44-a49500000000"));
    assertThat(CaptureRows.isCapture("{\"id\":\"x\"}".getBytes(StandardCharsets.UTF_8))).isFalse();
    assertThatThrownBy(() -> CaptureRows.split(base, "{\"capture\":1,\"rows\":[]}".getBytes(StandardCharsets.UTF_8)))
        .hasMessageContaining("missing");
  }

  @Test
  void keysAreKnownToThePostgresBackend() {
    assertThat(PgBackendSettings.KEYS).containsAll(Set.of("capture", "capture_install", "capture_tables"));
  }
}
