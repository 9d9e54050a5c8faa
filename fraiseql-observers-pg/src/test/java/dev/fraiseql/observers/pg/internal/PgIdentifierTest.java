package dev.fraiseql.observers.pg.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class PgIdentifierTest {

  @Test
  void parsesPlainAndSchemaQualifiedNamesFoldingCaseAndQuoting() {
    assertThat(PgIdentifier.parse("fn_reserve_inventory").quoted()).isEqualTo("\"fn_reserve_inventory\"");
    assertThat(PgIdentifier.parse("Inventory.Fn_Reserve").quoted()).isEqualTo("\"inventory\".\"fn_reserve\"");
    assertThat(PgIdentifier.parse(" app.observer_outbox ").toString()).isEqualTo("app.observer_outbox");
    assertThat(PgIdentifier.parse("a.t").sibling("_deliveries").quoted()).isEqualTo("\"a\".\"t_deliveries\"");
    assertThat(PgIdentifier.parse("a.t").quotedDerivedName("_idx")).isEqualTo("\"t_idx\"");
    assertThat(PgIdentifier.parse("a.t").channel("_wake")).isEqualTo("a_t_wake");
  }

  @Test
  void rejectsAnythingButPlainNames() {
    for (String bad : new String[] {"fn_x(); DROP TABLE users; --", "a.b.c", "", "1abc", "a-b", "\"quoted\"", "a..b",
        "a b", "x".repeat(64)}) {
      assertThatThrownBy(() -> PgIdentifier.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("not a valid SQL name");
    }
  }

  @Test
  void derivedNamesFitPostgresLimit() {
    PgIdentifier long63 = PgIdentifier.parse("t".repeat(63));
    assertThat(long63.sibling("_consumers").name()).hasSize(63).endsWith("_consumers");
    assertThat(long63.quotedDerivedName("_pending_idx")).hasSize(65);
  }

  @Test
  void migrationsRenderConfiguredNamesQuoted() {
    String sql = Migrations.render(Migrations.EVENTS, Map.of("observer_events", PgIdentifier.parse("bus.ev"),
        "observer_events_consumers", PgIdentifier.parse("bus.ev_consumers"),
        "observer_events_deliveries", PgIdentifier.parse("bus.ev_deliveries")));
    assertThat(sql).contains("CREATE TABLE IF NOT EXISTS \"bus\".\"ev\" (")
        .contains("CREATE TABLE IF NOT EXISTS \"bus\".\"ev_consumers\"")
        .contains("CREATE INDEX IF NOT EXISTS \"ev_deliveries_pending_idx\" ON \"bus\".\"ev_deliveries\"")
        .contains("\"ev_dedup_idx\" ON \"bus\".\"ev\" (dedup_id)")
        .doesNotContain("observer_events");
    String idem = Migrations.render(Migrations.IDEMPOTENCY, Map.of("observer_idempotency_keys",
        PgIdentifier.parse("observer_idempotency_keys")));
    assertThat(idem).contains("idempotency_key TEXT NOT NULL").contains("PRIMARY KEY (idempotency_key, listener_id)");
  }

  @Test
  void upgradeMigrationsRenderTheConfiguredTableInsideTheirCatalogChecks() {
    String v5 = Migrations.render(Migrations.IDEMPOTENCY_FILLFACTOR, Map.of("observer_idempotency_keys",
        PgIdentifier.parse("app.keys")));
    assertThat(v5).contains("WHERE oid = '\"app\".\"keys\"'::regclass")
        .contains("ALTER TABLE \"app\".\"keys\" SET (fillfactor = 60)")
        .doesNotContain("observer_");
    String v6 = Migrations.render(Migrations.OUTBOX_UPGRADE, Map.of("observer_outbox", PgIdentifier.parse("app.ob")));
    assertThat(v6).contains("c.oid = '\"app\".\"ob\"'::regclass")
        .contains("ALTER TABLE \"app\".\"ob\" ALTER COLUMN event TYPE JSON")
        .contains("ALTER TABLE \"app\".\"ob\" SET (fillfactor = 50)")
        .contains("format('%I.%s', ns, '\"ob_pending_id_idx\"')")
        .contains("format('DROP INDEX %I.%s', ns, '\"ob_pending_idx\"')")
        .doesNotContain("observer_");
  }
}
