package dev.fraiseql.observers.nats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.config.ConfigLocation;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.nats.internal.NatsSettings;
import dev.fraiseql.observers.nats.internal.Redact;
import dev.fraiseql.observers.nats.internal.Subjects;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class NatsSettingsTest {
  private static final Function<String, Optional<String>> NO_ENV = v -> Optional.empty();

  private static Settings toml(Map<String, Object> values) {
    Settings.Builder b = Settings.builder(new ConfigLocation("fraiseql.toml", 3, 1, "[observers.nats]"));
    int line = 4;
    for (Map.Entry<String, Object> e : values.entrySet()) {
      b.put(e.getKey(), e.getValue(), new ConfigLocation("fraiseql.toml", line++, 1, "[observers.nats]"));
    }
    return b.build();
  }

  @Test
  void defaultsFitSeed000() {
    NatsSettings s = NatsSettings.parse(toml(Map.of("nats_url", "nats://localhost:4222")), NO_ENV);
    assertThat(s.toString()).contains("stream=FRAISEQL").contains("subjects=[fraiseql.>]").contains("autoCreateStream=true")
        .contains("storage=file").contains("duplicateWindow=PT2M").contains("publishWindow=1024");
  }

  @Test
  void providerIsFoundByServiceLoaderAndListsItsKeys() {
    assertThat(ServiceLoader.load(dev.fraiseql.observers.spi.BackendProvider.class).stream()
        .map(ServiceLoader.Provider::get).filter(p -> p.name().equals("nats")).findFirst())
        .get().satisfies(p -> {
          assertThat(p).isInstanceOf(NatsBackendProvider.class);
          assertThat(p.artifact()).isEqualTo("dev.fraiseql:fraiseql-observers-nats");
          assertThat(p.settingKeys()).contains("nats_url", "stream", "subjects", "auto_create_stream",
              "duplicate_window_ms", "publish_window", "token_env", "password_env", "credentials_file", "tls_ca_file");
        });
  }

  @Test
  void unknownKeyNamesFileLineAndSuggestsTheRightOne() {
    assertThatThrownBy(() -> NatsSettings.parse(toml(Map.of("duplicate_windw_ms", 1000L)), NO_ENV))
        .isInstanceOf(ObserverConfigException.class)
        .hasMessageContaining("fraiseql.toml:4:1")
        .hasMessageContaining("unknown key `duplicate_windw_ms`")
        .hasMessageContaining("duplicate_window_ms");
  }

  @Test
  void everyProblemIsReportedAtOnce() {
    assertThatThrownBy(() -> NatsSettings.parse(toml(Map.of(
        "storage", "disk", "replicas", 9L, "publish_window", 0L, "stream", "my.stream", "nats_url", "http://x:4222")), NO_ENV))
        .isInstanceOfSatisfying(ObserverConfigException.class, e -> {
          assertThat(e.problems()).extracting(p -> p.key())
              .containsExactlyInAnyOrder("storage", "replicas", "publish_window", "stream", "nats_url");
          assertThat(e.getMessage()).contains("has 5 problems").contains("\"file\"").contains("from 1 to 5");
        });
  }

  @Test
  void aMissingTokenVariableNamesTheVariableNotAValue() {
    assertThatThrownBy(() -> NatsSettings.parse(toml(Map.of("token_env", "NATS_TOKEN")), NO_ENV))
        .hasMessageContaining("environment variable NATS_TOKEN named by `token_env` is not set")
        .hasMessageContaining("fraiseql.toml:4:1");
  }

  @Test
  void secretsNeverAppearInToString() {
    Map<String, String> env = Map.of("NATS_PASSWORD", "hunter2-secret", "NATS_TOKEN", "tok-secret");
    NatsSettings s = NatsSettings.parse(toml(Map.of("nats_url", "nats://alice:pw-in-url@nats.internal:4222?x=1",
        "user", "alice", "password_env", "NATS_PASSWORD")), k -> Optional.ofNullable(env.get(k)));
    assertThat(s.toString()).doesNotContain("hunter2-secret").doesNotContain("pw-in-url").doesNotContain("x=1")
        .contains("nats://***@nats.internal:4222").contains("auth=user/password");
    NatsSettings t = NatsSettings.parse(toml(Map.of("token_env", "NATS_TOKEN")), k -> Optional.ofNullable(env.get(k)));
    assertThat(t.toString()).doesNotContain("tok-secret").contains("auth=token");
  }

  @Test
  void passwordWithoutUserAndTokenWithUserAreRejected() {
    Map<String, String> env = Map.of("P", "p", "T", "t");
    assertThatThrownBy(() -> NatsSettings.parse(toml(Map.of("password_env", "P")), k -> Optional.ofNullable(env.get(k))))
        .hasMessageContaining("`password_env` is set but `user` is not");
    assertThatThrownBy(() -> NatsSettings.parse(toml(Map.of("token_env", "T", "user", "u")), k -> Optional.ofNullable(env.get(k))))
        .hasMessageContaining("either a token or a user and password");
  }

  @Test
  void unreadableFilesAreNamed() {
    assertThatThrownBy(() -> NatsSettings.parse(toml(Map.of("credentials_file", "/nope/user.creds")), NO_ENV))
        .hasMessageContaining("`credentials_file` /nope/user.creds cannot be read");
    assertThatThrownBy(() -> NatsSettings.parse(toml(Map.of("tls_ca_file", "/nope/ca.pem")), NO_ENV))
        .hasMessageContaining("`tls_ca_file` /nope/ca.pem cannot be read");
  }

  @Test
  void subjectsAreValidatedAndMatchedLikeTheServer() {
    assertThatThrownBy(() -> NatsSettings.parse(toml(Map.of("subjects", List.of("fraiseql..x"))), NO_ENV))
        .hasMessageContaining("`fraiseql..x`, which is not a NATS subject");
    assertThat(Subjects.isValid("fraiseql.>", true)).isTrue();
    assertThat(Subjects.isValid("fraiseql.>.x", true)).isFalse();
    assertThat(Subjects.isValid("fraiseql.*", false)).isFalse();
    assertThat(Subjects.isValid("bad subject", true)).isFalse();
    assertThat(Subjects.covers("fraiseql.>", "fraiseql.order.created")).isTrue();
    assertThat(Subjects.covers("fraiseql.>", "fraiseql.*.created")).isTrue();
    assertThat(Subjects.covers("fraiseql.>", "fraiseql")).isFalse();
    assertThat(Subjects.covers("fraiseql.*.created", "fraiseql.order.created")).isTrue();
    assertThat(Subjects.covers("fraiseql.*.created", "fraiseql.>")).isFalse();
    assertThat(Subjects.covers("fraiseql.order.created", "fraiseql.order.updated")).isFalse();
  }

  @Test
  void idempotencyBucketIsOptInAndValidated() {
    assertThat(NatsTestSupport.backend(NatsTestSupport.settingsFor("x")).idempotencyStore()).isEmpty();
    java.util.Map<String, Object> s = NatsTestSupport.settingsFor("x");
    s.put("idempotency_bucket", "fraiseql_idempotency");
    assertThat(NatsTestSupport.backend(s).idempotencyStore()).isPresent();
    assertThatThrownBy(() -> NatsSettings.parse(toml(Map.of("idempotency_bucket", "a.b")), NO_ENV))
        .hasMessageContaining("`idempotency_bucket` is `a.b`");
  }

  @Test
  void redactsCredentialsInUrls() {
    assertThat(Redact.url("nats://user:pass@host:4222")).isEqualTo("nats://***@host:4222");
    assertThat(Redact.url("nats://s3cr3ttoken@host:4222")).isEqualTo("nats://***@host:4222");
    assertThat(Redact.url("tls://host:4222?token=abc")).isEqualTo("tls://host:4222");
    assertThat(Redact.url("nats://host:4222")).isEqualTo("nats://host:4222");
  }

  @Test
  void retryHorizonAddsAttemptTimeoutsAndJitteredDelays() {
    dev.fraiseql.observers.config.RetryPolicy p = dev.fraiseql.observers.config.RetryPolicy.custom().maxAttempts(3)
        .backoff(dev.fraiseql.observers.config.BackoffStrategy.EXPONENTIAL).initialDelay(java.time.Duration.ofSeconds(1))
        .maxDelay(java.time.Duration.ofSeconds(60)).jitter(0.5).build();
    // two retries: (5s timeout + 1.5s) + (5s timeout + 3s)
    assertThat(dev.fraiseql.observers.nats.internal.RetryHorizon.of(p, java.time.Duration.ofSeconds(5)))
        .isEqualTo(java.time.Duration.ofMillis(14_500));
  }
}
