package dev.fraiseql.observers.pg.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.config.Settings;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The pool keys of {@code [observers.postgres]}: defaults, bounds, and errors that name the key. */
class PgPoolSettingsTest {

  private static PgPoolSettings read(Map<String, Object> keys) {
    return PgPoolSettings.from(Settings.of("[observers.postgres]", keys));
  }

  @Test
  void defaultsOpenConnectionsOnDemandWithHikariCpsLifetimes() {
    PgPoolSettings d = read(Map.of());
    assertThat(d).isEqualTo(PgPoolSettings.defaults());
    assertThat(d.size()).isEqualTo(4);
    assertThat(d.minIdle()).isZero();
    assertThat(d.connectionTimeout()).isEqualTo(Duration.ofSeconds(10));
    assertThat(d.idleTimeout()).isEqualTo(Duration.ofMinutes(10));
    assertThat(d.maxLifetime()).isEqualTo(Duration.ofMinutes(30));
    assertThat(d.leakDetection()).isZero();
  }

  @Test
  void everyKeyIsRead() {
    PgPoolSettings s = read(Map.of("pool_size", 12L, "pool_min_idle", 3L, "pool_connection_timeout_ms", 2500L,
        "pool_idle_timeout_ms", 0L, "pool_max_lifetime_ms", 600_000L, "pool_leak_detection_ms", 30_000L));
    assertThat(s).isEqualTo(new PgPoolSettings(12, 3, Duration.ofMillis(2500), Duration.ZERO, Duration.ofMinutes(10),
        Duration.ofSeconds(30)));
  }

  @Test
  void valuesHikariWouldQuietlyReplaceAreErrorsNamingTheKey() {
    assertThatThrownBy(() -> read(Map.of("pool_size", 0L))).isInstanceOf(ObserverConfigException.class)
        .hasMessageContaining("pool_size").hasMessageContaining("1 to 64");
    assertThatThrownBy(() -> read(Map.of("pool_size", 2L, "pool_min_idle", 3L)))
        .hasMessageContaining("pool_min_idle").hasMessageContaining("more than `pool_size` (2)");
    assertThatThrownBy(() -> read(Map.of("pool_connection_timeout_ms", 100L)))
        .hasMessageContaining("pool_connection_timeout_ms").hasMessageContaining("below 250");
    assertThatThrownBy(() -> read(Map.of("pool_idle_timeout_ms", 5_000L)))
        .hasMessageContaining("pool_idle_timeout_ms").hasMessageContaining("use 0");
    assertThatThrownBy(() -> read(Map.of("pool_max_lifetime_ms", 1_000L)))
        .hasMessageContaining("pool_max_lifetime_ms").hasMessageContaining("30000 or more");
    assertThatThrownBy(() -> read(Map.of("pool_leak_detection_ms", 500L)))
        .hasMessageContaining("pool_leak_detection_ms").hasMessageContaining("below 2000");
    assertThatThrownBy(() -> read(Map.of("pool_max_lifetime_ms", 60_000L, "pool_leak_detection_ms", 60_000L)))
        .hasMessageContaining("pool_leak_detection_ms").hasMessageContaining("not below `pool_max_lifetime_ms` (60000)");
    assertThatThrownBy(() -> read(Map.of("pool_max_lifetime_ms", -1L)))
        .hasMessageContaining("pool_max_lifetime_ms").hasMessageContaining("negative");
    assertThatThrownBy(() -> read(Map.of("pool_size", "four")))
        .hasMessageContaining("pool_size");
  }

  @Test
  void theKeysAreKnownToTheBackendAndABadOneFailsTheBuildWithItsLine() {
    assertThat(PgBackendSettings.KEYS).containsAll(PgPoolSettings.KEYS).contains("pool_size", "database_url");
    String toml = """
        [observers]
        backend = "postgres"
        database_url = "postgres://root@localhost:1/nowhere"

        [observers.postgres]
        pool_size = 2
        pool_max_lifetime_ms = 10
        """;
    assertThatThrownBy(() -> ObserverEngine.builder().configToml(toml).build().close())
        .isInstanceOf(ObserverConfigException.class)
        .hasMessageContaining("pool_max_lifetime_ms")
        .hasMessageContaining(":7:");
  }

  @Test
  void anEngineBuildsWithoutTouchingTheDatabase() {
    // port 1: nothing listens; HikariCP opens no connection while the engine starts (pool_min_idle = 0)
    String toml = """
        [observers]
        backend = "postgres"
        database_url = "postgres://root:secret@localhost:1/nowhere"

        [observers.postgres]
        pool_leak_detection_ms = 5000
        """;
    try (ObserverEngine engine = ObserverEngine.builder().configToml(toml).build()) {
      assertThat(engine.config().backendSettings().keys()).contains("pool_leak_detection_ms");
    }
  }
}
