package dev.fraiseql.observers.nats.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class PubAcksTest {
  private static PubAcks.Ack parse(String json) {
    return PubAcks.parse(json.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void readsThePlainAcknowledgement() {
    assertThat(parse("{\"stream\":\"ORDERS\",\"seq\":5}")).isEqualTo(new PubAcks.Ack(5, false));
    assertThat(parse("{\"stream\":\"ORDERS\",\"seq\":123456789012,\"duplicate\":true}"))
        .isEqualTo(new PubAcks.Ack(123456789012L, true));
    assertThat(parse(" { \"stream\" : \"ORDERS\" , \"domain\" : \"hub\" , \"seq\" : 0 , \"duplicate\" : false }\r\n"))
        .isEqualTo(new PubAcks.Ack(0, false));
    assertThat(parse("{\"seq\":7,\"stream\":\"S\",\"val\":null,\"batch\":\"b1\",\"count\":3}"))
        .isEqualTo(new PubAcks.Ack(7, false));
  }

  @Test
  void leavesEverythingElseToJnats() {
    assertThat(parse("{\"error\":{\"code\":503,\"err_code\":10039,\"description\":\"no stream\"}}")).isNull();
    assertThat(parse("{\"stream\":\"S\",\"seq\":1,\"error\":null}")).isNull();
    assertThat(parse("{\"stream\":\"S\"}")).as("no seq").isNull();
    assertThat(parse("{\"seq\":1}")).as("no stream").isNull();
    assertThat(parse("{\"stream\":\"\",\"seq\":1}")).as("empty stream").isNull();
    assertThat(parse("{\"stream\":\"S\",\"seq\":-1}")).isNull();
    assertThat(parse("{\"stream\":\"S\",\"seq\":1.5}")).isNull();
    assertThat(parse("{\"stream\":\"S\",\"seq\":1e3}")).isNull();
    assertThat(parse("{\"stream\":\"S\",\"seq\":12345678901234567890}")).as("beyond a long").isNull();
    assertThat(parse("{\"stream\":\"S\\u0041\",\"seq\":1}")).as("escapes").isNull();
    assertThat(parse("{\"stream\":\"S\",\"seq\":1,\"list\":[1]}")).isNull();
    assertThat(parse("{\"stream\":\"S\",\"seq\":1")).as("unterminated").isNull();
    assertThat(parse("{\"stream\":\"S\",\"seq\":1}x")).as("trailing bytes").isNull();
    assertThat(parse("{\"stream\":\"S\" \"seq\":1}")).isNull();
    assertThat(parse("{}")).isNull();
    assertThat(parse("")).isNull();
    assertThat(PubAcks.parse(null)).isNull();
    assertThat(parse("[1]")).isNull();
    assertThat(parse("{\"stream\":\"S\",\"seq\":1,\"duplicate\":tru}")).isNull();
  }
}
