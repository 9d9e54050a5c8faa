package dev.fraiseql.observers.nats.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nats.client.impl.Headers;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WireHeadersTest {
  private static final Map<String, String> ENTRIES = Map.of(
      "Fraiseql-Event-Id", "01a20c1b-eb06-7000-a354-0a9c02212fda",
      "Fraiseql-Event-Name", "order.created",
      "Fraiseql-Table", "tb_order",
      "Fraiseql-Operation", "INSERT",
      "Fraiseql-Request-Id", "req 01HV3KQBN7\twith tab",
      "Nats-Msg-Id", "01a20c1b-eb06-7000-a354-0a9c02212fda:fraiseql.order.created");

  @Test
  void writesExactlyWhatJnatsWouldAndIsReadOnlyOnceFrozen() {
    Headers plain = new Headers();
    NatsEventBus.WireHeaders wire = new NatsEventBus.WireHeaders();
    ENTRIES.forEach((k, v) -> {
      plain.put(k, v);
      wire.put(k, v);
    });
    assertThat(wire.isReadOnly()).isFalse();
    wire.freeze();
    assertThat(wire.isReadOnly()).isTrue();
    byte[] expected = plain.getSerialized();
    byte[] direct = new byte[expected.length];
    assertThat(NatsEventBus.WireHeaders.writeAscii(plain, direct)).as("the direct writer, not the fallback")
        .isEqualTo(expected.length);
    assertThat(direct).isEqualTo(expected);
    assertThat(NatsEventBus.WireHeaders.writeAscii(plain, new byte[expected.length - 1])).isEqualTo(-1);
    byte[] written = new byte[expected.length + 10];
    int n = wire.serializeToArray(10, written);
    assertThat(n).isEqualTo(expected.length).isEqualTo(wire.serializedLength());
    assertThat(java.util.Arrays.copyOfRange(written, 10, written.length)).isEqualTo(expected);
    assertThat(wire.getSerialized()).isEqualTo(expected);
  }

  /** The direct writer copies the low byte of each char: it relies on jnats refusing anything but ASCII. */
  @Test
  void jnatsAdmitsOnlyAsciiHeaderValues() {
    for (String v : new String[] {"caf\u00e9", "\u00fc", "a\u007fb", "a\u0001b", "\u20ac"}) {
      assertThatThrownBy(() -> new NatsEventBus.WireHeaders().put("K", v)).isInstanceOf(IllegalArgumentException.class);
    }
  }
}
