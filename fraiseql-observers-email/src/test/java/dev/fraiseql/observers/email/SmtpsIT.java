package dev.fraiseql.observers.email;

import static org.assertj.core.api.Assertions.assertThat;

import com.icegreen.greenmail.util.DummySSLServerSocketFactory;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.spi.DeadLetter;
import jakarta.mail.internet.MimeMessage;
import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code smtps://} against GreenMail's SMTPS server with a certificate made for the test (keytool, SAN
 * IP:127.0.0.1): with the host's trust (an {@link SSLSocketFactory} component) the message arrives over
 * TLS; without it, the untrusted certificate makes the attempt fail (retryable) and nothing is sent.
 */
class SmtpsIT {
  private static final String STORE_PASSWORD = "test-store-pw";
  @TempDir
  static Path dir;
  private static GreenMail mail;
  private static Path keystore;

  @BeforeAll
  static void start() throws Exception {
    keystore = dir.resolve("smtps.p12");
    Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
        "-genkeypair", "-alias", "smtps", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
        "-dname", "CN=127.0.0.1", "-ext", "SAN=IP:127.0.0.1", "-storetype", "PKCS12",
        "-keystore", keystore.toString(), "-storepass", STORE_PASSWORD, "-keypass", STORE_PASSWORD)
        .redirectErrorStream(true).start();
    String output = new String(keytool.getInputStream().readAllBytes());
    assertThat(keytool.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(keytool.exitValue()).as(output).isZero();
    System.setProperty(DummySSLServerSocketFactory.GREENMAIL_KEYSTORE_FILE_PROPERTY, keystore.toString());
    System.setProperty(DummySSLServerSocketFactory.GREENMAIL_KEYSTORE_PASSWORD_PROPERTY, STORE_PASSWORD);
    System.setProperty(DummySSLServerSocketFactory.GREENMAIL_KEY_PASSWORD_PROPERTY, STORE_PASSWORD);
    ServerSetup setup = new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTPS);
    setup.setServerStartupTimeout(30_000); // TLS set-up on a busy 2-core machine takes longer than the 2 s default
    mail = new GreenMail(setup);
    mail.start();
  }

  @AfterAll
  static void stop() {
    if (mail != null) {
      mail.stop();
    }
    System.clearProperty(DummySSLServerSocketFactory.GREENMAIL_KEYSTORE_FILE_PROPERTY);
    System.clearProperty(DummySSLServerSocketFactory.GREENMAIL_KEYSTORE_PASSWORD_PROPERTY);
    System.clearProperty(DummySSLServerSocketFactory.GREENMAIL_KEY_PASSWORD_PROPERTY);
  }

  private static String toml() {
    return """
        [observers]
        backend = "in-memory"

        [[observers.handlers]]
        name = "welcome-email"
        event = "user.created"
        action = "email"
        smtp_url = "smtps://127.0.0.1:%d"
        from = "mailer@shop.example"
        to = "{{data.new.email}}"
        subject = "Welcome {{data.new.name}}"
        text = "Hi {{data.new.name}}"
        max_attempts = 1
        """.formatted(mail.getSmtps().getPort());
  }

  private static SSLSocketFactory trusting(Path store) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = new FileInputStream(store.toFile())) {
      ks.load(in, STORE_PASSWORD.toCharArray());
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx.getSocketFactory();
  }

  @Test
  void withTheHostsTrustTheMessageArrivesOverTls() throws Exception {
    assertThat(Files.exists(keystore)).isTrue();
    try (ObserverEngine engine = ObserverEngine.builder().config(toml(), "fraiseql.toml")
        .component(SSLSocketFactory.class, trusting(keystore)).build()) {
      List<DeliveryOutcome> o = engine.onCommit(TestSupport.userCreated()).completion().toCompletableFuture()
          .get(20, TimeUnit.SECONDS);
      assertThat(o).singleElement().satisfies(d -> assertThat(d.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED));
    }
    assertThat(mail.waitForIncomingEmail(5000, 1)).isTrue();
    MimeMessage m = mail.getReceivedMessages()[0];
    assertThat(m.getSubject()).isEqualTo("Welcome Alice");
    mail.purgeEmailFromAllMailboxes();
  }

  @Test
  void anUntrustedCertificateIsATlsFailureAndNothingIsSent() throws Exception {
    try (ObserverEngine engine = ObserverEngine.builder().config(toml(), "fraiseql.toml").build()) {
      List<DeliveryOutcome> o = engine.onCommit(TestSupport.userCreated()).completion().toCompletableFuture()
          .get(20, TimeUnit.SECONDS);
      assertThat(o).singleElement().satisfies(d -> assertThat(d.status()).isEqualTo(DeliveryOutcome.Status.DEAD_LETTERED));
      List<DeadLetter> dead = engine.deadLetters().list();
      assertThat(dead).singleElement().satisfies(d -> assertThat(d.attempts()).singleElement()
          .satisfies(a -> assertThat(a.outcome()).contains("TLS failure with smtps://127.0.0.1:")));
    }
    Thread.sleep(200);
    assertThat(mail.getReceivedMessages()).isEmpty();
  }
}
