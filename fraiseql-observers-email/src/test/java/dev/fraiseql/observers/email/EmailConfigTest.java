package dev.fraiseql.observers.email;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.spi.Action;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every configuration mistake is reported at build time, all at once, with file, line, key and fix. */
class EmailConfigTest {

  private static Map<String, Object> valid() {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("smtp_url", "smtp://127.0.0.1:2525");
    s.put("from", "orders@shop.example");
    s.put("to", "{{data.new.email}}");
    s.put("subject", "Hello");
    s.put("text", "Hi");
    return s;
  }

  private static ObserverConfigException problems(Map<String, Object> settings, Map<String, String> env) {
    return (ObserverConfigException) org.assertj.core.api.Assertions.catchThrowable(
        () -> new EmailActionProvider().create(new TestSupport.Ctx("welcome-email", settings, env)).close());
  }

  @Test
  void aValidHandlerBuildsAndDescribesItselfWithoutSecrets() {
    Map<String, Object> s = valid();
    s.put("username_env", "SMTP_USER");
    s.put("password_env", "SMTP_PASSWORD");
    try (Action a = new EmailActionProvider().create(new TestSupport.Ctx("welcome-email", s,
        Map.of("SMTP_USER", "mailer", "SMTP_PASSWORD", "hunter2-secret")))) {
      assertThat(a.describe()).isEqualTo("email via smtp://127.0.0.1:2525 (STARTTLS required)");
      assertThat(a.toString()).contains("user mailer").contains("password ***").doesNotContain("hunter2");
    }
  }

  @Test
  void everyProblemIsReportedAtOnceWithItsLine() {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("smtp_url", "http://mail.example.com");
    s.put("starttls", "sometimes");
    s.put("from", "not an address");
    s.put("html", "<p>{{{data.new.name}}}</p>");
    s.put("password", "oops");
    s.put("connect_timeout_ms", 0L);
    ObserverConfigException e = problems(s, Map.of());
    assertThat(e.getMessage())
        .contains("fraiseql.toml:8:1: the SMTP URL of handler welcome-email must be smtp or smtps, not `http`")
        .contains("starttls of handler welcome-email is `sometimes`").contains("use \"required\", \"optional\" or \"off\"")
        .contains("from of handler welcome-email is not a valid address list")
        .contains("uses an unescaped tag").contains("inject markup")
        .contains("writes its SMTP password in the configuration").contains("password_env = \"SMTP_PASSWORD\"")
        .contains("connect_timeout_ms of handler welcome-email is 0")
        .contains("has no recipient").contains("has no subject");
    assertThat(e.problems()).hasSizeGreaterThanOrEqualTo(8);
  }

  @Test
  void variablesAreNamedNeverTheirValues() {
    Map<String, Object> s = valid();
    s.remove("smtp_url");
    s.put("smtp_url_env", "SMTP_URL");
    s.put("username", "mailer");
    s.put("password_env", "SMTP_PASSWORD");
    ObserverConfigException e = problems(s, Map.of());
    assertThat(e.getMessage()).contains("environment variable SMTP_URL (named by `smtp_url_env` of handler welcome-email) is not set")
        .contains("environment variable SMTP_PASSWORD (named by `password_env` of handler welcome-email) is not set");
    s.put("smtp_url_env", "SMTP_URL");
    e = problems(s, Map.of("SMTP_URL", "ftp://user:topsecret@host", "SMTP_PASSWORD", "x"));
    assertThat(e.getMessage()).contains("must be smtp or smtps, not `ftp`").doesNotContain("topsecret");
  }

  @Test
  void smtpsTakesNoStarttlsAndTheSubjectHasTwoSpellings() {
    Map<String, Object> s = valid();
    s.put("smtp_url", "smtps://mail.example.com");
    s.put("starttls", "required");
    s.put("email_subject", "Other");
    ObserverConfigException e = problems(s, Map.of());
    assertThat(e.getMessage()).contains("whose smtps:// URL is TLS from the first byte")
        .contains("sets both subject and email_subject");
    s.remove("starttls");
    s.remove("subject");
    try (Action a = new EmailActionProvider().create(new TestSupport.Ctx("welcome-email", s))) {
      assertThat(a.describe()).isEqualTo("email via smtps://mail.example.com:465");
    }
  }

  @Test
  void unknownKeysGetADidYouMeanFromTheEngine() {
    String toml = handlerWith("max_conections = 2");
    assertThatThrownBy(() -> ObserverEngine.builder().config(toml, "fraiseql.toml").build().close())
        .isInstanceOf(ObserverConfigException.class)
        .hasMessageContaining("fraiseql.toml:13")
        .hasMessageContaining("max_conections")
        .hasMessageContaining("max_connections");
  }

  @Test
  void queueTimeoutAboveADayIsRefusedNamingTheKeyAndTheFix() {
    String toml = handlerWith("queue_timeout_ms = 86400001");
    assertThatThrownBy(() -> ObserverEngine.builder().config(toml, "fraiseql.toml").build().close())
        .isInstanceOf(ObserverConfigException.class)
        .hasMessageContaining("fraiseql.toml")
        .hasMessageContaining("queue_timeout_ms of handler welcome-email is more than a day")
        .hasMessageContaining("or 0 to wait for a free slot without a limit");
  }

  /** A valid email handler in a fraiseql.toml, with {@code line} as its line 13. */
  private static String handlerWith(String line) {
    return """
        [observers]
        backend = "in-memory"

        [[observers.handlers]]
        name = "welcome-email"
        event = "user.created"
        action = "email"
        smtp_url = "smtp://127.0.0.1:2525"
        from = "orders@shop.example"
        to = "{{data.new.email}}"
        subject = "Hello"
        text = "Hi"
        """ + line + "\n";
  }
}
