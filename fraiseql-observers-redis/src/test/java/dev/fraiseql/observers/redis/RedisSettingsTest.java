package dev.fraiseql.observers.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.redis.internal.RedisSettings;
import dev.fraiseql.observers.redis.internal.RedisUrl;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RedisSettingsTest {

  private static RedisSettings parse(Map<String, Object> m) {
    return RedisSettings.from(Settings.of("[observers.redis]", m));
  }

  @Test
  void defaults() {
    RedisSettings s = parse(Map.of("redis_url", "redis://localhost:6379"));
    assertThat(s.keyPrefix()).isEqualTo("fraiseql:");
    assertThat(s.maxLen()).isEqualTo(100_000);
    assertThat(s.batch()).isEqualTo(100);
    assertThat(s.publishers()).isEqualTo(2);
    assertThat(s.claimIdle()).isEmpty();
    assertThat(s.timeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(s.block()).isEqualTo(Duration.ofSeconds(1));
    assertThat(s.deadLetterMax()).isEqualTo(100_000);
    assertThat(s.idempotencyTtl()).isEqualTo(Duration.ofDays(7));
    assertThat(s.url().host()).isEqualTo("localhost");
    assertThat(s.url().port()).isEqualTo(6379);
    assertThat(s.url().tls()).isFalse();
  }

  @Test
  void urlWithUserPasswordTlsAndDatabase() {
    RedisUrl u = RedisUrl.parse("rediss://app:s%40cr%3At+x@cache.example.com:6380/3", "redis_url",
        Settings.empty().location());
    assertThat(u.tls()).isTrue();
    assertThat(u.user()).contains("app");
    assertThat(u.password()).contains("s@cr:t+x");
    assertThat(u.database()).isEqualTo(3);
    assertThat(u.port()).isEqualTo(6380);
    assertThat(u.redacted()).isEqualTo("rediss://***@cache.example.com:6380/3");
    assertThat(u.toString()).doesNotContain("s%40cr").doesNotContain("app");
  }

  @Test
  void passwordOnlyUrl() {
    RedisUrl u = RedisUrl.parse("redis://:hunter2@localhost", "redis_url", Settings.empty().location());
    assertThat(u.user()).isEmpty();
    assertThat(u.password()).contains("hunter2");
    assertThat(u.redacted()).isEqualTo("redis://***@localhost:6379");
  }

  @Test
  void sentinelUrlNamesTheSentinelsAndTheMaster() {
    RedisSettings s = parse(Map.of("redis_url",
        "redis-sentinel://:s%40cret@10.0.0.1:26379,10.0.0.2:26380,sentinel-3/orders-master/2"));
    RedisUrl u = s.url();
    assertThat(u.sentinel()).isTrue();
    assertThat(u.sentinels()).containsExactly("10.0.0.1:26379", "10.0.0.2:26380", "sentinel-3:26379");
    assertThat(u.masterName()).contains("orders-master");
    assertThat(u.database()).isEqualTo(2);
    assertThat(u.password()).contains("s@cret");
    assertThat(u.redacted()).isEqualTo("redis-sentinel://***@10.0.0.1:26379,10.0.0.2:26380,sentinel-3:26379/orders-master/2");
    assertThat(s.toString()).doesNotContain("s%40cret").doesNotContain("s@cret");
    assertThat(parse(Map.of("redis_url", "redis://localhost:6379")).url().sentinel()).isFalse();
  }

  @Test
  void badClusterAndSentinelFormsAreConfigErrorsWithTheFix() {
    assertThatThrownBy(() -> parse(Map.of("redis_url", "redis-sentinel://10.0.0.1:26379,10.0.0.2:26379")))
        .isInstanceOf(ObserverConfigException.class)
        .hasMessageContaining("redis_url").hasMessageContaining("names no master")
        .hasMessageContaining("redis-sentinel://[user:password@]sentinel1:26379,sentinel2:26379/<master name>");
    assertThatThrownBy(() -> parse(Map.of("redis_url", "redis-sentinel://10.0.0.1:x/m")))
        .isInstanceOf(ObserverConfigException.class).hasMessageContaining("redis_url");
    assertThatThrownBy(() -> parse(Map.of("redis_url", "redis://10.0.0.1:6379,10.0.0.2:6379")))
        .isInstanceOf(ObserverConfigException.class).hasMessageContaining("redis_url");
    assertThatThrownBy(() -> parse(Map.of("redis_url", "redis-cluster://10.0.0.1:7000,10.0.0.2:7000")))
        .isInstanceOf(ObserverConfigException.class)
        .hasMessageContaining("Redis Cluster is not supported yet").hasMessageContaining("Sentinel");
    assertThatThrownBy(() -> RedisUrl.parse("redis://10.0.0.1:6379,10.0.0.2:6379", "redis_url",
        Settings.empty().location()))
        .isInstanceOf(ObserverConfigException.class).hasMessageContaining("redis-sentinel://");
  }

  @Test
  void badUrlsAreNamedWithoutTheirSecrets() {
    assertThatThrownBy(() -> parse(Map.of("redis_url", "http://user:hunter2@localhost:6379")))
        .isInstanceOf(ObserverConfigException.class)
        .hasMessageContaining("redis_url").hasMessageContaining("redis://")
        .hasMessageNotContaining("hunter2");
    assertThatThrownBy(() -> parse(Map.of("redis_url", "redis://user:hun ter2@localhost:6379")))
        .isInstanceOf(ObserverConfigException.class)
        .hasMessageContaining("redis_url").hasMessageContaining("percent-encode")
        .hasMessageNotContaining("hun ter2");
    assertThatThrownBy(() -> parse(Map.of("redis_url", "redis://localhost:6379/?password=hunter2")))
        .isInstanceOf(ObserverConfigException.class)
        .hasMessageContaining("query").hasMessageNotContaining("hunter2");
    assertThatThrownBy(() -> parse(Map.of("redis_url", "redis://localhost:6379/db1")))
        .hasMessageContaining("db1");
  }

  @Test
  void missingUrlSaysHowToFixIt() {
    assertThatThrownBy(() -> parse(Map.of("max_len", 10L)))
        .isInstanceOf(ObserverConfigException.class)
        .hasMessageContaining("redis_url").hasMessageContaining("redis://localhost:6379");
  }

  @Test
  void unknownKeysGetDidYouMean() {
    assertThatThrownBy(() -> parse(Map.of("redis_url", "redis://localhost", "max_lenght", 5L, "batchh", 3L)))
        .isInstanceOf(ObserverConfigException.class)
        .satisfies(e -> assertThat(((ObserverConfigException) e).problems()).hasSize(2))
        .hasMessageContaining("max_lenght").hasMessageContaining("max_len")
        .hasMessageContaining("batchh");
    // other backends' URLs may sit in [observers] beside ours
    assertThat(parse(Map.of("redis_url", "redis://localhost", "database_url", "jdbc:postgresql://x/y")).maxLen())
        .isEqualTo(100_000);
  }

  @Test
  void outOfRangeValues() {
    assertThatThrownBy(() -> parse(Map.of("redis_url", "redis://localhost", "max_len", 0L)))
        .hasMessageContaining("max_len");
    assertThatThrownBy(() -> parse(Map.of("redis_url", "redis://localhost", "batch", 0L)))
        .hasMessageContaining("batch");
    assertThatThrownBy(() -> parse(Map.of("redis_url", "redis://localhost", "publishers", 0L)))
        .isInstanceOf(ObserverConfigException.class)
        .hasMessageContaining("publishers").hasMessageContaining("1 to 64");
    assertThatThrownBy(() -> parse(Map.of("redis_url", "redis://localhost", "publishers", 65L)))
        .hasMessageContaining("publishers");
    assertThatThrownBy(() -> parse(Map.of("redis_url", "redis://localhost", "publishers", "two")))
        .hasMessageContaining("publishers");
    assertThat(parse(Map.of("redis_url", "redis://localhost", "publishers", 8L)).publishers()).isEqualTo(8);
    assertThatThrownBy(() -> parse(Map.of("redis_url", "redis://localhost", "publisher", 2L)))
        .hasMessageContaining("publisher").hasMessageContaining("publishers");
    assertThatThrownBy(() -> parse(Map.of("redis_url", "redis://localhost", "claim_idle_ms", 1L)))
        .hasMessageContaining("claim_idle_ms");
    assertThatThrownBy(() -> parse(Map.of("redis_url", "redis://localhost", "block_ms", "fast")))
        .hasMessageContaining("block_ms");
    assertThatThrownBy(() -> parse(Map.of("redis_url", "redis://localhost", "key_prefix", "")))
        .hasMessageContaining("key_prefix");
  }

  @Test
  void toStringHidesCredentials() {
    RedisSettings s = parse(Map.of("redis_url", "redis://admin:hunter2@localhost:6379"));
    assertThat(s.toString()).doesNotContain("hunter2").doesNotContain("admin").contains("localhost");
  }
}
