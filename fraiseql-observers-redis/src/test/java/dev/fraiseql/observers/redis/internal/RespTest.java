package dev.fraiseql.observers.redis.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The RESP encoding the publisher writes straight to the socket. */
class RespTest {

  private static String text(PipelineConnection.Resp r) {
    return new String(r.buf, 0, r.len, StandardCharsets.UTF_8);
  }

  @Test
  void arraysOfBulkStrings() {
    PipelineConnection.Resp r = new PipelineConnection.Resp();
    r.array(3).bulk("XADD".getBytes(StandardCharsets.UTF_8)).bulk("k").bulk(new byte[0]);
    assertThat(text(r)).isEqualTo("*3\r\n$4\r\nXADD\r\n$1\r\nk\r\n$0\r\n\r\n");
  }

  @Test
  void numbersOfEveryLength() {
    for (long v : new long[] {0, 7, 10, 999, 1023, 1024, 123_456_789L, 1_234_567_890L, 120_000L, 10_000_000L,
        Long.MAX_VALUE, -5, -1_234_567_890_123L}) {
      PipelineConnection.Resp r = new PipelineConnection.Resp();
      r.bulk(v);
      String d = Long.toString(v);
      assertThat(text(r)).as("%d", v).isEqualTo("$" + d.length() + "\r\n" + d + "\r\n");
    }
  }

  @Test
  void stringsAreUtf8WithTheirByteLength() {
    PipelineConnection.Resp r = new PipelineConnection.Resp();
    String s = "caf\u00e9 \u2603 \ud83d\ude00";
    r.bulk("ascii-id:subject").bulk(s).bulk("");
    int bytes = s.getBytes(StandardCharsets.UTF_8).length;
    assertThat(text(r)).isEqualTo("$16\r\nascii-id:subject\r\n$" + bytes + "\r\n" + s + "\r\n$0\r\n\r\n");
  }

  @Test
  void growsForLargeRoundsAndShrinksAfterwards() {
    PipelineConnection.Resp r = new PipelineConnection.Resp();
    byte[] big = new byte[3_000_000];
    r.array(2).bulk(big).bulk(big);
    assertThat(r.len).isEqualTo("*2\r\n".length() + 2 * ("$3000000\r\n".length() + big.length + 2));
    r.clear();
    assertThat(r.len).isZero();
    assertThat(r.buf.length).isLessThan(big.length);
    r.bulk("x");
    assertThat(text(r)).isEqualTo("$1\r\nx\r\n");
  }
}
