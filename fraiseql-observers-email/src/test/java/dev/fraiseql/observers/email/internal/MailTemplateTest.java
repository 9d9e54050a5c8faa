package dev.fraiseql.observers.email.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fraiseql.observers.config.Settings;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MailTemplateTest {
  private static final Settings S = Settings.of("[[observers.handlers]] #1", Map.of());

  private static String render(MailTemplate.Kind kind, String template, Object value) {
    return MailTemplate.compile(S, "k", template, kind, "h").render(Map.of("v", value));
  }

  @Test
  void htmlValuesAreEscaped() {
    assertThat(render(MailTemplate.Kind.HTML, "<b>{{v}}</b>", "<script>alert('x')</script> & \"q\""))
        .isEqualTo("<b>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;</b>");
  }

  @Test
  void headersStayOneLine() {
    assertThat(render(MailTemplate.Kind.HEADER, "Hi {{v}}", "A\r\nBcc: x@evil\u2028Y")).isEqualTo("Hi A  Bcc: x@evil Y");
    assertThat(render(MailTemplate.Kind.HEADER, "Hi\n{{v}}", "A")).isEqualTo("Hi A");
  }

  @Test
  void addressValuesWithLineBreaksAreRefusedAndSpecialsAreQuoted() {
    assertThatThrownBy(() -> render(MailTemplate.Kind.ADDRESS, "{{v}}", "a@example.com\r\nBcc: x@evil"))
        .isInstanceOf(MailTemplate.RefusedValueException.class).hasMessageContaining("line break")
        .hasMessageNotContaining("evil");
    assertThat(render(MailTemplate.Kind.ADDRESS, "{{v}} <a@example.com>", "Smith, \"Jane\""))
        .isEqualTo("\"Smith, \\\"Jane\\\"\" <a@example.com>");
    assertThat(render(MailTemplate.Kind.ADDRESS, "{{v}}", "a@example.com, x@evil.example"))
        .isEqualTo("\"a@example.com, x@evil.example\"");
    assertThat(render(MailTemplate.Kind.ADDRESS, "{{v}}", "a@example.com")).isEqualTo("a@example.com");
  }

  @Test
  void textIsAsIsAndMissingValuesAreEmpty() {
    assertThat(render(MailTemplate.Kind.TEXT, "{{v}} <{{missing}}>", "a & b")).isEqualTo("a & b <>");
    assertThat(render(MailTemplate.Kind.TEXT, "{{v}}", java.util.List.of(1, 2))).isEqualTo("[1,2]");
  }

  @Test
  void messageIdPartIsTheHandlerNameOrAHash() {
    assertThat(EmailAction.messageIdPart("welcome-email")).isEqualTo("welcome-email");
    assertThat(EmailAction.messageIdPart("order.created.email#2")).isEqualTo("order.created.email#2");
    assertThat(EmailAction.messageIdPart("a..b")).matches("h[0-9a-f]{16}");
    assertThat(EmailAction.messageIdPart("a b<c>")).matches("h[0-9a-f]{16}");
  }
}
