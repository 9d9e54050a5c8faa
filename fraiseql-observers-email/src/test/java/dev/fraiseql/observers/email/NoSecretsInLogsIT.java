package dev.fraiseql.observers.email;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.RetryPolicy;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.spi.DeadLetter;
import dev.fraiseql.observers.testkit.CapturedStderr;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Sends with a password through a real SMTP server (GreenMail, which checks it), then through
 * {@link SmtpResponder} replying with a 550 that echoes the password and a 535, all with TRACE logging
 * captured from stderr (slf4j-simple); and builds handlers with config errors around the password.
 * Neither the password nor its AUTH encodings appear in the logs, outcomes, dead letters, the action's
 * {@code toString()} or exception messages.
 */
class NoSecretsInLogsIT {
  private static final String PASSWORD = "Sm7p-pa55w0rd-XYZ";
  private static final String URL_PASSWORD = "url-pa55-QRS";

  private static HandlerConfig handler(String name, int port, Map<String, Object> extra, int attempts) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("smtp_url", "smtp://127.0.0.1:" + port);
    s.put("username", "mailer");
    s.put("password_env", "SMTP_PASSWORD");
    s.put("starttls", "optional");
    s.put("from", "mailer@shop.example");
    s.put("to", "{{data.new.email}}");
    s.put("subject", "Welcome {{data.new.name}}");
    s.put("text", "Hi {{data.new.name}}");
    s.putAll(extra);
    return HandlerConfig.builder(name).event("user.created").action("email")
        .settings(Settings.of("[[observers.handlers]]", s))
        .retry(RetryPolicy.custom().maxAttempts(attempts).initialDelay(Duration.ofMillis(10)).jitter(0).build())
        .build();
  }

  @Test
  void thePasswordNeverReachesALogLineOutcomeDeadLetterOrMessage() throws Exception {
    List<String> texts = new ArrayList<>();
    GreenMail mail = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
    mail.setUser("mailer@shop.example", "mailer", PASSWORD);
    mail.start();
    String plain = Base64.getEncoder().encodeToString(("mailer\0mailer\0" + PASSWORD).getBytes(StandardCharsets.UTF_8));
    try (SmtpResponder careless = new SmtpResponder()) {
      // a careless server that echoes the credentials back in its replies
      careless.reply("RCPT", "451 4.3.0 try again, you said " + PASSWORD + " / " + plain);
      careless.reply("END", "550 5.7.1 no: " + PASSWORD);
      String logs = CapturedStderr.during(() -> {
        ObserversConfig cfg = ObserversConfig.builder().backend("in-memory")
            .handler(handler("welcome-email", mail.getSmtp().getPort(), Map.of(), 2))
            .handler(handler("careless-server", careless.port(), Map.of(), 3))
            .handler(handler("url-credentials", careless.port(), Map.of("smtp_url",
                "smtp://mailer:" + URL_PASSWORD + "@127.0.0.1:" + careless.port(), "password_env", "UNUSED"), 1))
            .build();
        try (ObserverEngine engine = ObserverEngine.builder().config(cfg).env(Map.of("SMTP_PASSWORD", PASSWORD)).build()) {
          fail(engine);
        } catch (dev.fraiseql.observers.ObserverConfigException e) {
          texts.add(e.getMessage());
        }
        ObserversConfig ok = ObserversConfig.builder().backend("in-memory")
            .handler(handler("welcome-email", mail.getSmtp().getPort(), Map.of(), 2))
            .handler(handler("careless-server", careless.port(), Map.of(), 3))
            .build();
        try (ObserverEngine engine = ObserverEngine.builder().config(ok).env(Map.of("SMTP_PASSWORD", PASSWORD)).build()) {
          for (DeliveryOutcome o : engine.onCommit(TestSupport.userCreated()).completion().toCompletableFuture()
              .get(30, TimeUnit.SECONDS)) {
            texts.add(o.toString());
          }
          for (DeadLetter d : engine.deadLetters().list()) {
            texts.add(d.toString());
            texts.add(d.reason());
            d.attempts().forEach(a -> texts.add(a.outcome()));
          }
          assertThat(engine.deadLetters().list()).singleElement().satisfies(d -> {
            assertThat(d.handler()).isEqualTo("careless-server");
            assertThat(d.reason()).contains("SMTP 550 5.7.1 no: ***");
            assertThat(d.attempts()).hasSize(2);
            assertThat(d.attempts().get(0).outcome()).contains("SMTP 451 4.3.0 try again, you said *** / ***");
          });
        }
      });
      texts.add(logs);
      System.err.print(logs);
      assertThat(logs).contains("[observer] welcome-email: dispatching email via smtp://127.0.0.1:")
          .contains("dead-lettered");
      assertThat(mail.waitForIncomingEmail(5000, 1)).isTrue();
      assertThat(mail.getReceivedMessages()).hasSize(1);
      assertThat(careless.received()).hasSize(1);
      assertThat(careless.commands()).contains("AUTH PLAIN " + plain);
    } finally {
      mail.stop();
    }
    // the action itself and config errors around the password
    TestSupport.Ctx ctx = new TestSupport.Ctx("welcome-email", Map.of("smtp_url", "smtp://mailer:" + URL_PASSWORD
        + "@127.0.0.1:25", "from", "a@b.example", "to", "c@d.example", "subject", "s", "text", "t"));
    try (var action = new EmailActionProvider().create(ctx)) {
      texts.add(action.toString());
      texts.add(action.describe());
    }
    assertThatThrownBy(() -> new EmailActionProvider().create(new TestSupport.Ctx("x",
        Map.of("smtp_url", "smtp://127.0.0.1:25", "password", PASSWORD, "from", "a@b.example", "to", "c@d.example",
            "subject", "s", "text", "t"))))
        .satisfies(e -> texts.add(e.getMessage()))
        .hasMessageContaining("password_env");
    assertThatThrownBy(() -> new EmailActionProvider().create(new TestSupport.Ctx("x",
        Map.of("smtp_url", "smtp://mailer:" + URL_PASSWORD + "@127.0.0.1:25", "password_env", "SMTP_PASSWORD",
            "from", "a@b.example", "to", "c@d.example", "subject", "s", "text", "t"),
        Map.of("SMTP_PASSWORD", PASSWORD))))
        .satisfies(e -> texts.add(e.getMessage()))
        .hasMessageContaining("remove the password from the URL");
    String all = String.join("\n", texts);
    for (String secret : List.of(PASSWORD, URL_PASSWORD, plain,
        Base64.getEncoder().encodeToString(PASSWORD.getBytes(StandardCharsets.UTF_8)))) {
      assertThat(all).as("secret %s", secret).doesNotContain(secret);
    }
  }

  private static void fail(ObserverEngine engine) {
    throw new AssertionError("a password in both the URL and password_env must be refused");
  }
}
