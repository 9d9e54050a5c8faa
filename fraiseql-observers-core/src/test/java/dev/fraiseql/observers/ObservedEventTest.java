package dev.fraiseql.observers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ObservedEventTest {
  private static final UUID ID = UUID.fromString("01953a4e-8c00-7000-8000-000000000001");
  private static final Instant TS = Instant.parse("2026-02-25T10:00:00Z");

  @ParameterizedTest(name = "{0} {1} → {2}")
  @CsvSource({
      "tb_user, INSERT, user.created, user",
      "tb_user, UPDATE, user.updated, user",
      "tb_user, DELETE, user.deleted, user",
      "tb_order, INSERT, order.created, order",
      "public.tb_post, UPDATE, post.updated, post",
      "comments, INSERT, comments.created, comments"})
  void derivesEntityAndEventName(String table, Operation op, String name, String entity) {
    ObservedEvent.Builder b = ObservedEvent.builder().operation(op).table(table);
    if (op != Operation.DELETE) {
      b.newRow(Map.of("id", 1));
    }
    ObservedEvent e = b.build();
    assertThat(e.name()).isEqualTo(name);
    assertThat(e.entity()).isEqualTo(entity);
  }

  @Test
  void anExplicitNameOverrides() {
    ObservedEvent e = ObservedEvent.builder().operation(Operation.UPDATE).table("tb_post").name("post.published").build();
    assertThat(e.name()).isEqualTo("post.published");
    assertThat(ObservedEvent.fromJson(e.toJson()).name()).isEqualTo("post.published");
  }

  @Test
  void defaultJsonIsTheSeedPayloadPlusIdAndContext() {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("id", "550e8400-e29b-41d4-a716-446655440000");
    row.put("email", "alice@example.com");
    row.put("name", "Alice");
    ObservedEvent e = ObservedEvent.builder().id(ID).operation(Operation.INSERT).table("tb_user").timestamp(TS)
        .newRow(row).build();
    assertThat(e.toJsonString()).isEqualTo("{\"id\":\"01953a4e-8c00-7000-8000-000000000001\",\"event\":\"INSERT\","
        + "\"table\":\"tb_user\",\"timestamp\":\"2026-02-25T10:00:00Z\",\"data\":{\"new\":{\"id\":"
        + "\"550e8400-e29b-41d4-a716-446655440000\",\"email\":\"alice@example.com\",\"name\":\"Alice\"},\"old\":null},"
        + "\"context\":{\"event_name\":\"user.created\"}}");
  }

  @Test
  void contextCarriesTheMutationContext() throws Exception {
    ObservedEvent e = ObservedEvent.builder().id(ID).operation(Operation.UPDATE).table("tb_post").timestamp(TS)
        .mutation("publishPost").newRow(Map.of("status", "published")).oldRow(Map.of("status", "draft"))
        .context(MutationContext.builder().userId("u-1").tenantId("t-9").requestId("req_01HV3KQBN7")
            .attribute("ip", "10.0.0.1").build()).build();
    JsonNode json = new ObjectMapper().readTree(e.toJson());
    assertThat(json.path("data").path("old").path("status").asText()).isEqualTo("draft");
    assertThat(json.path("data").path("new").path("status").asText()).isEqualTo("published");
    assertThat(json.path("context").toString()).isEqualTo("{\"event_name\":\"post.updated\",\"mutation\":\"publishPost\","
        + "\"user_id\":\"u-1\",\"tenant_id\":\"t-9\",\"request_id\":\"req_01HV3KQBN7\",\"attributes\":{\"ip\":\"10.0.0.1\"}}");
  }

  @Test
  void deleteHasNullNew() throws Exception {
    ObservedEvent e = ObservedEvent.delete("tb_comment", Map.of("id", 3));
    JsonNode json = new ObjectMapper().readTree(e.toJson());
    assertThat(json.path("data").get("new").isNull()).isTrue();
    assertThat(json.path("data").path("old").path("id").asInt()).isEqualTo(3);
  }

  @Test
  void roundTripsThroughJson() {
    ObservedEvent e = ObservedEvent.builder().operation(Operation.UPDATE).table("tb_order").mutation("updateOrder")
        .newRow(Map.of("total", new BigDecimal("100.50"), "items", List.of(Map.of("sku", "A", "qty", 2))))
        .oldRow(Map.of("total", 90))
        .context(MutationContext.builder().userId("u").tenantId("t").requestId("r").attribute("n", 1).build()).build();
    ObservedEvent back = ObservedEvent.fromJson(e.toJson());
    assertThat(back.newRow()).isEqualTo(e.newRow());
    assertThat(back.oldRow()).isEqualTo(e.oldRow());
    assertThat(back.context()).isEqualTo(e.context());
    assertThat(back.timestamp()).isEqualTo(e.timestamp());
    assertThat(back).isEqualTo(e);
    assertThat(back.toJsonString()).isEqualTo(e.toJsonString());
  }

  @Test
  void isImmutable() {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("tags", new java.util.ArrayList<>(List.of("a")));
    ObservedEvent e = ObservedEvent.insert("tb_post", row);
    row.put("later", 1);
    assertThat(e.newRow().orElseThrow()).doesNotContainKey("later");
    assertThatThrownBy(() -> e.newRow().orElseThrow().put("x", 1)).isInstanceOf(UnsupportedOperationException.class);
    @SuppressWarnings("unchecked")
    List<Object> tags = (List<Object>) e.newRow().orElseThrow().get("tags");
    assertThatThrownBy(() -> tags.add("b")).isInstanceOf(UnsupportedOperationException.class);
    byte[] json = e.toJson();
    json[0] = 'X';
    assertThat(e.toJsonString()).startsWith("{");
  }

  /** A bean converted by Jackson. */
  public record Order(String id, BigDecimal total, Instant placedAt) {}

  @Test
  void acceptsBeansAndRecords() {
    ObservedEvent e = ObservedEvent.insert("tb_order", new Order("o-1", new BigDecimal("12.50"), TS));
    assertThat(e.newRow().orElseThrow()).containsEntry("id", "o-1").containsEntry("placedAt", "2026-02-25T10:00:00Z");
    assertThat(e.newRow().orElseThrow().get("total")).isEqualTo(new BigDecimal("12.50"));
  }

  @Test
  void rejectsRowsThatContradictTheOperation() {
    assertThatThrownBy(() -> ObservedEvent.builder().operation(Operation.INSERT).table("t").oldRow(Map.of()).build())
        .hasMessageContaining("INSERT event has no old row");
    assertThatThrownBy(() -> ObservedEvent.builder().operation(Operation.DELETE).table("t").newRow(Map.of()).build())
        .hasMessageContaining("DELETE event has no new row");
    assertThatThrownBy(() -> ObservedEvent.builder().table("t").build()).hasMessageContaining("operation is required");
    assertThatThrownBy(() -> ObservedEvent.builder().operation(Operation.INSERT).build()).hasMessageContaining("table");
    assertThatThrownBy(() -> ObservedEvent.insert("t", "not an object")).hasMessageContaining("must be a JSON object");
  }

  @Test
  void idsAreVersion7AndIncreasing() {
    Set<UUID> ids = new HashSet<>();
    UUID prev = null;
    for (int i = 0; i < 10_000; i++) {
      UUID id = ObservedEvent.insert("t", Map.of()).id();
      assertThat(id.version()).isEqualTo(7);
      assertThat(id.variant()).isEqualTo(2);
      if (prev != null) {
        assertThat(id.toString()).isGreaterThan(prev.toString());
      }
      prev = id;
      ids.add(id);
    }
    assertThat(ids).hasSize(10_000);
  }

  @Test
  void fromJsonNamesWhatIsWrong() {
    assertThatThrownBy(() -> ObservedEvent.fromJson("nope".getBytes())).hasMessageStartingWith("not a FraiseQL event: invalid JSON");
    assertThatThrownBy(() -> ObservedEvent.fromJson("{\"table\":\"t\"}".getBytes())).hasMessage("not a FraiseQL event: missing \"event\"");
    assertThatThrownBy(() -> ObservedEvent.fromJson("{\"event\":\"MERGE\",\"table\":\"t\"}".getBytes()))
        .hasMessageContaining("expected INSERT, UPDATE or DELETE");
  }

  @Test
  void fromJsonKeepsTheBytesItReadWhenNothingWasMadeUp() {
    // Key order and an unknown field that the library would not write: kept byte for byte.
    String in = "{\"table\":\"tb_order\",\"event\":\"INSERT\",\"id\":\"0193a0b0-0000-7000-8000-000000000001\","
        + "\"timestamp\":\"2026-02-25T10:00:00Z\",\"extra\":{\"x\":[1,2]},"
        + "\"data\":{\"new\":{\"total\":129.90,\"n\":12345678901,\"big\":123456789012345678901234567890,"
        + "\"items\":[{\"sku\":\"A\",\"ok\":true,\"none\":null}]},\"old\":null},"
        + "\"context\":{\"event_name\":\"order.created\",\"attributes\":{\"n\":1}}}";
    byte[] bytes = in.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    ObservedEvent e = ObservedEvent.fromJson(bytes);
    bytes[0] = 'X'; // the event keeps its own copy
    assertThat(e.toJsonString()).isEqualTo(in);
    Map<String, Object> row = e.newRow().orElseThrow();
    assertThat(row.get("total")).isEqualTo(new BigDecimal("129.90"));
    assertThat(row.get("n")).isEqualTo(12345678901L);
    assertThat(row.get("big")).isEqualTo(new java.math.BigInteger("123456789012345678901234567890"));
    @SuppressWarnings("unchecked")
    Map<String, Object> item = (Map<String, Object>) ((List<Object>) row.get("items")).get(0);
    assertThat(item).containsEntry("sku", "A").containsEntry("ok", true).containsKey("none");
    assertThatThrownBy(() -> item.put("y", 1)).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> row.entrySet().iterator().next().setValue(1)).isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> row.keySet().clear()).isInstanceOf(UnsupportedOperationException.class);
    assertThat(e.context().attributes()).containsEntry("n", 1);
    // The same event built in code serializes canonically and compares equal.
    assertThat(ObservedEvent.fromJson(e.toBuilder().build().toJson())).isEqualTo(e);
  }

  @Test
  void fromJsonWithoutIdOrNameWritesWhatItMadeUp() {
    ObservedEvent e = ObservedEvent.fromJson("{\"event\":\"DELETE\",\"table\":\"tb_user\",\"data\":{\"old\":{\"id\":3}}}".getBytes());
    assertThat(e.toJsonString()).contains("\"id\":\"" + e.id() + "\"").contains("\"event_name\":\"user.deleted\"")
        .contains("\"old\":{\"id\":3}");
  }

  @Test
  void fromJsonRejectsNonScalarsAndTrailingContent() {
    assertThatThrownBy(() -> ObservedEvent.fromJson("{\"event\":\"INSERT\",\"table\":{}}".getBytes()))
        .hasMessage("not a FraiseQL event: \"table\" must be a string, got a JSON object");
    assertThatThrownBy(() -> ObservedEvent.fromJson("{\"event\":\"INSERT\",\"table\":\"t\"} {}".getBytes()))
        .hasMessageContaining("trailing content");
    assertThatThrownBy(() -> ObservedEvent.fromJson("[1]".getBytes())).hasMessage("not a FraiseQL event: expected a JSON object");
    assertThatThrownBy(() -> ObservedEvent.fromJson("{\"event\":\"INSERT\",\"table\":\"t\",\"data\":{\"new\":{\"a\":[1,}}}".getBytes()))
        .hasMessageStartingWith("not a FraiseQL event: invalid JSON");
  }

  @Test
  void toStringHasNoRowData() {
    ObservedEvent e = ObservedEvent.insert("tb_user", Map.of("email", "alice@example.com"));
    assertThat(e.toString()).doesNotContain("alice");
  }
}
