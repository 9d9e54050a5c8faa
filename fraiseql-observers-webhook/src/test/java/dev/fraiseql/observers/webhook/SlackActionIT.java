package dev.fraiseql.observers.webhook;

import static dev.fraiseql.observers.webhook.TestSupport.delivery;
import static dev.fraiseql.observers.webhook.TestSupport.userCreated;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fraiseql.observers.spi.Action;
import dev.fraiseql.observers.spi.ActionResult;
import dev.fraiseql.observers.webhook.Receiver.Response;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SlackActionIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void postsATemplatedMessageWithSlackEscaping() throws Exception {
    try (Receiver slack = new Receiver()) {
      Map<String, Object> s = new LinkedHashMap<>();
      s.put("url", slack.uri("/services/T000/B000/XXXXSECRETXXXX").toString());
      s.put("text", "New user *{{data.new.name}}* ({{data.new.email}}) in {{context.tenant_id}}");
      s.put("channel", "#signups");
      s.put("username", "fraiseql");
      s.put("icon_emoji", ":tada:");
      try (Action a = new SlackActionProvider().create(new TestSupport.Ctx("slack-signup", s))) {
        assertThat(a.describe()).isEqualTo("slack to http://127.0.0.1:" + slack.port() + "/***");
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("name", "<!channel> & <https://evil.example|click>");
        row.put("email", "eve@example.com");
        ActionResult r = a.execute(delivery(userCreated(row), "slack-signup", 1)).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertThat(r.isDelivered()).isTrue();
        Receiver.Request req = slack.requests().get(0);
        assertThat(req.path()).isEqualTo("/services/T000/B000/XXXXSECRETXXXX");
        assertThat(req.header("Content-Type")).isEqualTo("application/json");
        JsonNode body = JSON.readTree(req.body());
        assertThat(body.get("text").asText()).isEqualTo(
            "New user *&lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;* (eve@example.com) in t-42");
        assertThat(body.get("channel").asText()).isEqualTo("#signups");
        assertThat(body.get("username").asText()).isEqualTo("fraiseql");
        assertThat(body.get("icon_emoji").asText()).isEqualTo(":tada:");
      }
    }
  }

  @Test
  void sameRetryRulesAsWebhooks() throws Exception {
    try (Receiver slack = new Receiver()) {
      slack.answer(Response.of(429).withHeader("Retry-After", "3"), Response.of(404, "channel_not_found"),
          Response.of(200, "ok"));
      try (Action a = new SlackActionProvider().create(new TestSupport.Ctx("slack-signup",
          Map.of("url", slack.uri("/services/T/B/KEYKEYKEY").toString())))) {
        ActionResult first = a.execute(delivery(userCreated(), "slack-signup", 1)).toCompletableFuture().get(10, TimeUnit.SECONDS);
        ActionResult second = a.execute(delivery(userCreated(), "slack-signup", 2)).toCompletableFuture().get(10, TimeUnit.SECONDS);
        ActionResult third = a.execute(delivery(userCreated(), "slack-signup", 3)).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertThat(first).isInstanceOf(ActionResult.Retry.class);
        assertThat(((ActionResult.Retry) first).after()).contains(java.time.Duration.ofSeconds(3));
        assertThat(second).isInstanceOf(ActionResult.Failed.class);
        assertThat(second.detail()).isEqualTo("HTTP 404: channel_not_found");
        assertThat(third.isDelivered()).isTrue();
        // default text names the event
        assertThat(JSON.readTree(slack.requests().get(2).body()).get("text").asText())
            .isEqualTo("user.created: INSERT on tb_user (event 01936b2e-6c1a-7cc0-9a4e-3f2b5d8e9a10)");
      }
    }
  }
}
