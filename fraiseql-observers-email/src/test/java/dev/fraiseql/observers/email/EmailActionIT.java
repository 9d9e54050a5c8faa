package dev.fraiseql.observers.email;

import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.spi.DeadLetter;
import dev.fraiseql.observers.testkit.CapturedStderr;
import jakarta.mail.Message;
import jakarta.mail.Multipart;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code action = "email"} through the engine, configured from TOML, against GreenMail: a real SMTP
 * server embedded in the test. Asserts what arrived in the mailboxes.
 */
class EmailActionIT {
  private GreenMail mail;
  private int port;

  @BeforeEach
  void start() {
    mail = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
    mail.setUser("mailer@shop.example", "mailer", "s3cret-Passw0rd");
    mail.start();
    port = mail.getSmtp().getPort();
  }

  @AfterEach
  void stop() {
    mail.stop();
  }

  private String toml(String extra) {
    return toml("{{data.new.name}} <{{data.new.email}}>", extra);
  }

  private String toml(String to, String extra) {
    return """
        [observers]
        backend = "in-memory"

        [[observers.handlers]]
        name = "welcome-email"
        event = "user.created"
        action = "email"
        smtp_url = "smtp://127.0.0.1:%d"
        username = "mailer"
        password_env = "SMTP_PASSWORD"
        starttls = "optional"
        from = "Shop <mailer@shop.example>"
        to = "%s"
        cc = ["audit@shop.example"]
        bcc = "archive@shop.example"
        reply_to = "support@shop.example"
        subject = "Welcome, {{data.new.name}}"
        text = '''
        Hi {{data.new.name}}, your account is ready.
        Tenant: {{context.tenant_id}}'''
        html = "<p>Hi <b>{{data.new.name}}</b>, your account is ready.</p>"
        max_attempts = 2
        initial_delay_ms = 10
        %s
        """.formatted(port, to, extra);
  }

  private ObserverEngine engine(String extra, String password) {
    return engineFor(toml(extra), password);
  }

  private ObserverEngine engineFor(String toml, String password) {
    return ObserverEngine.builder().config(toml, "fraiseql.toml")
        .env(Map.of("SMTP_PASSWORD", password)).build();
  }

  private static ObservedEvent user(String name, String email) {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("id", "550e8400-e29b-41d4-a716-446655440000");
    row.put("email", email);
    row.put("name", name);
    return TestSupport.userCreated(row);
  }

  private static List<DeliveryOutcome> dispatch(ObserverEngine engine, ObservedEvent e) throws Exception {
    return engine.onCommit(e).completion().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  @Test
  void theMessageArrivesWithRenderedHeadersAndBothBodies() throws Exception {
    List<DeliveryOutcome> outcomes = new ArrayList<>();
    String logs = CapturedStderr.during(() -> {
      try (ObserverEngine engine = engine("", "s3cret-Passw0rd")) {
        outcomes.addAll(dispatch(engine, user("Alice & <Bob>", "alice@example.com")));
      }
    });
    assertThat(outcomes).singleElement().satisfies(o -> {
      assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
      assertThat(o.detail()).startsWith("smtp=250 message-id=<01936b2e-6c1a-7cc0-9a4e-3f2b5d8e9a10.welcome-email@shop.example>");
    });
    assertThat(logs).contains("[observer] welcome-email: dispatching email via smtp://127.0.0.1:"
        + mail.getSmtp().getPort() + " (STARTTLS optional)");
    assertThat(mail.waitForIncomingEmail(5000, 3)).isTrue();
    MimeMessage[] received = mail.getReceivedMessages();
    // one copy per envelope recipient: to, cc, bcc
    List<String> envelope = new ArrayList<>();
    for (MimeMessage m : received) {
      envelope.add(m.getHeader("Message-ID", null));
    }
    assertThat(received).hasSize(3);
    for (String rcpt : List.of("alice@example.com", "audit@shop.example", "archive@shop.example")) {
      assertThat(mail.getUserManager().getUserByEmail(rcpt)).as("delivered to %s", rcpt).isNotNull();
    }
    assertThat(envelope).containsOnly("<01936b2e-6c1a-7cc0-9a4e-3f2b5d8e9a10.welcome-email@shop.example>");
    MimeMessage m = received[0];
    assertThat(m.getSubject()).isEqualTo("Welcome, Alice & <Bob>");
    assertThat(m.getFrom()[0].toString()).isEqualTo("Shop <mailer@shop.example>");
    assertThat(m.getRecipients(Message.RecipientType.TO)).singleElement().satisfies(a -> {
      assertThat(((InternetAddress) a).getPersonal()).isEqualTo("Alice & <Bob>");
      assertThat(((InternetAddress) a).getAddress()).isEqualTo("alice@example.com");
    });
    assertThat(m.getRecipients(Message.RecipientType.CC)).extracting(Object::toString).containsExactly("audit@shop.example");
    assertThat(m.getHeader("Bcc")).as("Bcc is never written into the message").isNull();
    assertThat(m.getReplyTo()).extracting(Object::toString).containsExactly("support@shop.example");
    assertThat(m.getHeader("Fraiseql-Event-Id", null)).isEqualTo("01936b2e-6c1a-7cc0-9a4e-3f2b5d8e9a10");
    assertThat(m.getHeader("Fraiseql-Delivery-Id", null)).isEqualTo("01936b2e-6c1a-7cc0-9a4e-3f2b5d8e9a10:welcome-email");
    assertThat(m.getContentType()).startsWith("multipart/alternative");
    Multipart parts = (Multipart) m.getContent();
    assertThat(parts.getCount()).isEqualTo(2);
    assertThat(parts.getBodyPart(0).getContentType()).startsWith("text/plain");
    assertThat(((String) parts.getBodyPart(0).getContent()).replace("\r\n", "\n"))
        .isEqualTo("Hi Alice & <Bob>, your account is ready.\nTenant: t-42");
    assertThat(parts.getBodyPart(1).getContentType()).startsWith("text/html");
    assertThat((String) parts.getBodyPart(1).getContent())
        .isEqualTo("<p>Hi <b>Alice &amp; &lt;Bob&gt;</b>, your account is ready.</p>");
  }

  @Test
  void aTemplateValueWithCrLfCannotAddAHeader() throws Exception {
    String evil = "Mallory\r\nBcc: x@evil.example\r\nX-Injected: yes";
    try (ObserverEngine engine = engineFor(toml("{{data.new.email}}", ""), "s3cret-Passw0rd")) {
      // in the subject (a header): the line breaks become spaces, the message goes out with one Subject line
      assertThat(dispatch(engine, user(evil, "mallory@example.com"))).singleElement()
          .satisfies(o -> assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED));
      assertThat(mail.waitForIncomingEmail(5000, 3)).isTrue();
      MimeMessage m = mail.getReceivedMessagesForDomain("example.com")[0];
      assertThat(m.getSubject()).isEqualTo("Welcome, Mallory  Bcc: x@evil.example  X-Injected: yes");
      assertThat(m.getHeader("X-Injected")).isNull();
      assertThat(m.getHeader("Bcc")).isNull();
      assertThat(Collections.list(m.getAllHeaderLines())).noneMatch(l -> l.startsWith("Bcc") || l.startsWith("X-Injected"));
      // in an address (to): refused, nothing sent, dead-lettered with the reason
      mail.purgeEmailFromAllMailboxes();
      List<DeliveryOutcome> outcomes = dispatch(engine, user("Mallory", "mallory@example.com\r\nBcc: x@evil.example"));
      assertThat(outcomes).singleElement().satisfies(o -> {
        assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DEAD_LETTERED);
        assertThat(o.attempts()).isEqualTo(1);
      });
      List<DeadLetter> dead = engine.deadLetters().list();
      assertThat(dead).singleElement().satisfies(d ->
          assertThat(d.reason()).contains("cannot build the email").contains("line break"));
    }
    Thread.sleep(200);
    assertThat(mail.getReceivedMessages()).isEmpty();
    assertThat(mail.getUserManager().getUserByEmail("x@evil.example")).as("no mailbox was delivered to").isNull();
  }

  @Test
  void aDisplayNameWithACommaAndAnAddressCannotAddARecipient() throws Exception {
    try (ObserverEngine engine = engine("", "s3cret-Passw0rd")) {
      // a display name with a comma and an address cannot add a recipient: it is quoted
      assertThat(dispatch(engine, user("Eve, x@evil.example", "eve@example.com"))).singleElement()
          .satisfies(o -> assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED));
      assertThat(mail.waitForIncomingEmail(5000, 3)).isTrue();
      MimeMessage e = mail.getReceivedMessagesForDomain("example.com")[0];
      assertThat(e.getRecipients(Message.RecipientType.TO)).singleElement().satisfies(a -> {
        assertThat(((InternetAddress) a).getPersonal()).isEqualTo("Eve, x@evil.example");
        assertThat(((InternetAddress) a).getAddress()).isEqualTo("eve@example.com");
      });
      assertThat(mail.getReceivedMessages()).hasSize(3);
      assertThat(mail.getUserManager().getUserByEmail("x@evil.example")).as("no mailbox was delivered to").isNull();
    }
  }

  @Test
  void seed000RuleFormWithTypeEmail() throws Exception {
    String toml = """
        [observers]
        backend = "in-memory"
        [[observers]]
        table = "tb_user"
        event = "INSERT"
        [[observers.actions]]
        type = "email"
        smtp_url = "smtp://127.0.0.1:%d"
        from = "mailer@shop.example"
        to = "{{data.new.email}}"
        subject = "{{event}} on {{table}}"
        html = "<p>{{data.new.name}}</p>"
        """.formatted(port);
    try (ObserverEngine engine = engineFor(toml, "unused")) {
      assertThat(dispatch(engine, user("Zoë", "zoe@example.com"))).singleElement().satisfies(o -> {
        assertThat(o.handler()).isEqualTo("tb_user.insert.email");
        assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
      });
    }
    assertThat(mail.waitForIncomingEmail(5000, 1)).isTrue();
    MimeMessage m = mail.getReceivedMessages()[0];
    assertThat(m.getSubject()).isEqualTo("INSERT on tb_user");
    assertThat(m.getContentType()).startsWith("text/html");
    assertThat((String) m.getContent()).isEqualTo("<p>Zoë</p>");
    assertThat(m.getMessageID()).isEqualTo("<01936b2e-6c1a-7cc0-9a4e-3f2b5d8e9a10.tb_user.insert.email@shop.example>");
  }

  @Test
  void aWrongPasswordIsAPermanent535AndTheServerIsReallyAuthenticating() throws Exception {
    try (ObserverEngine engine = engine("", "not-the-password")) {
      List<DeliveryOutcome> outcomes = dispatch(engine, user("Alice", "alice@example.com"));
      assertThat(outcomes).singleElement().satisfies(o -> {
        assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DEAD_LETTERED);
        assertThat(o.attempts()).isEqualTo(1);
        assertThat(o.detail()).contains("SMTP 535").contains("(AUTH)");
      });
    }
    assertThat(mail.getReceivedMessages()).isEmpty();
  }

  @Test
  void aServerThatIsDownIsRetriedThenDeadLettered() throws Exception {
    mail.stop();
    try (ObserverEngine engine = ObserverEngine.builder()
        .config(toml("").replace("max_attempts = 2", "max_attempts = 3"), "fraiseql.toml")
        .env(Map.of("SMTP_PASSWORD", "x")).build()) {
      List<DeliveryOutcome> outcomes = dispatch(engine, user("Alice", "alice@example.com"));
      assertThat(outcomes).singleElement().satisfies(o -> {
        assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DEAD_LETTERED);
        assertThat(o.attempts()).isEqualTo(3);
      });
      assertThat(engine.deadLetters().list()).singleElement().satisfies(d ->
          assertThat(d.attempts()).extracting(a -> a.outcome())
              .allMatch(s -> s.contains("connection refused by smtp://127.0.0.1:" + port)));
    }
  }
}
