package dev.fraiseql.observers.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.fraiseql.observers.DryRun;
import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.spi.ActionPreview;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@code Action.preview}: the request a webhook or Slack handler would send, sent nowhere, secrets masked. */
class WebhookPreviewTest {
  @Test
  void previewRendersTheRequestMasksSecretsAndSendsNothing() throws Exception {
    AtomicInteger hits = new AtomicInteger();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", ex -> {
      hits.incrementAndGet();
      ex.sendResponseHeaders(200, -1);
      ex.close();
    });
    server.start();
    String base = "http://127.0.0.1:" + server.getAddress().getPort();
    String toml = String.join("\n",
        "[[observers.handlers]]",
        "name = \"crm\"",
        "event = \"user.created\"",
        "action = \"webhook\"",
        "webhook_url = \"" + base + "/crm?key=${KEY}\"",
        "headers = { Authorization = \"Bearer ${TOKEN}\" }",
        "signing = \"standard-webhooks\"",
        "signing_secret_env = \"SECRET\"",
        "body_template = '{\"email\": \"{{data.new.email}}\", \"tenant\": \"{{context.tenant_id}}\"}'",
        "",
        "[[observers.handlers]]",
        "name = \"slack\"",
        "event = \"user.created\"",
        "action = \"slack\"",
        "webhook_url = \"" + base + "/services/T1/B2/slacksecretpath\"",
        "text = \"New user {{data.new.email}}\"",
        "");
    Map<String, String> env = Map.of("KEY", "key-secret-1", "TOKEN", "token-secret-2",
        "SECRET", "whsec_c2lnbmluZy1zZWNyZXQtMw==");
    ObservedEvent event = ObservedEvent.builder().operation(Operation.INSERT).table("tb_user")
        .newRow(Map.of("email", "a@example.com")).context(MutationContext.builder().tenantId("t-9").build()).build();
    try (DryRun plan = ObserverEngine.builder().configToml(toml).env(env).dryRun()) {
      List<DryRun.Match> m = plan.explain(event);
      assertThat(m).hasSize(2);
      ActionPreview crm = m.get(0).preview().orElseThrow();
      assertThat(crm.target()).startsWith("POST " + base + "/crm").doesNotContain("key-secret-1");
      assertThat(crm.body()).isEqualTo("{\"email\": \"a@example.com\", \"tenant\": \"t-9\"}");
      assertThat(crm.headers()).containsEntry("Authorization", ActionPreview.MASKED)
          .containsEntry("webhook-signature", ActionPreview.MASKED)
          .containsEntry("webhook-id", event.id() + ":crm")
          .containsEntry("Fraiseql-Delivery-Attempt", "1")
          .containsEntry("Content-Type", "application/json");
      ActionPreview slack = m.get(1).preview().orElseThrow();
      assertThat(slack.target()).doesNotContain("slacksecretpath");
      assertThat(slack.body()).isEqualTo("{\"text\":\"New user a@example.com\"}");
      String all = m.toString() + crm.headers() + crm.target() + slack.headers() + slack.target();
      assertThat(all).doesNotContain("key-secret-1", "token-secret-2", "c2lnbmluZy1zZWNyZXQtMw", "slacksecretpath");
    } finally {
      server.stop(0);
    }
    assertThat(hits.get()).as("a dry run sends nothing").isZero();
  }
}
