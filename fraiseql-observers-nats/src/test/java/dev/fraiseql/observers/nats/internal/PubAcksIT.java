package dev.fraiseql.observers.nats.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.PublishAck;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.impl.Headers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The replies a real nats-server sends to publishes, read by {@link PubAcks} and by jnats: the same. */
class PubAcksIT {
  private static final String URL = Optional.ofNullable(System.getenv("FRAISEQL_TEST_NATS_URL")).orElse("nats://localhost:4222");

  @Test
  void readsWhatTheServerAnswersAsJnatsDoes() throws Exception {
    String id = UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    String stream = "PA" + id;
    String subject = "pa" + id + ".x";
    try (Connection c = Nats.connect(new Options.Builder().server(URL).connectionTimeout(Duration.ofSeconds(2)).build())) {
      c.jetStreamManagement().addStream(StreamConfiguration.builder().name(stream).subjects("pa" + id + ".>")
          .storageType(StorageType.Memory).duplicateWindow(Duration.ofMinutes(1)).build());
      try {
        for (String msgId : new String[] {"a", "b", "a"}) {
          Headers h = new Headers().put("Nats-Msg-Id", msgId);
          Message reply = c.request(subject, h, "x".getBytes(StandardCharsets.UTF_8)).get(5, java.util.concurrent.TimeUnit.SECONDS);
          PublishAck jnats = new PublishAck(reply);
          PubAcks.Ack ours = PubAcks.parse(reply.getData());
          assertThat(ours).as(new String(reply.getData(), StandardCharsets.UTF_8)).isNotNull();
          assertThat(ours.seq()).isEqualTo(jnats.getSeqno());
          assertThat(ours.duplicate()).isEqualTo(jnats.isDuplicate());
        }
        // the third publish repeated "a": stored once, acknowledged as a duplicate of seq 1
        Message dup = c.request(subject, new Headers().put("Nats-Msg-Id", "a"), new byte[1]).get(5, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(PubAcks.parse(dup.getData())).isEqualTo(new PubAcks.Ack(1, true));

        // a refused publish (wrong expected last sequence): an error reply, left to jnats, which throws
        Message refused = c.request(subject, new Headers().put("Nats-Expected-Last-Sequence", "99"), new byte[1])
            .get(5, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(PubAcks.parse(refused.getData())).as(new String(refused.getData(), StandardCharsets.UTF_8)).isNull();
        assertThatThrownBy(() -> new PublishAck(refused)).isInstanceOf(JetStreamApiException.class);
      } finally {
        c.jetStreamManagement().deleteStream(stream);
      }
    }
  }
}
