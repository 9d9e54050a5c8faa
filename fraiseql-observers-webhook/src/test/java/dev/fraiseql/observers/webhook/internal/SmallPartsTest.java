package dev.fraiseql.observers.webhook.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class SmallPartsTest {

  @Test
  void urlRedaction() {
    assertThat(UrlRedaction.redact(URI.create("https://email-svc/hooks/fraiseql"))).isEqualTo("https://email-svc/hooks/fraiseql");
    assertThat(UrlRedaction.redact(URI.create("https://bob:pw@host:8443/path?token=abc#frag")))
        .isEqualTo("https://***@host:8443/path?***");
    assertThat(UrlRedaction.redact("not a url with spaces")).isEqualTo("***");
    assertThat(UrlRedaction.redact("/login?next=secret")).isEqualTo("/login?***");
    assertThat(UrlRedaction.redact(URI.create("http://[::1]:80/x"))).isEqualTo("http://[::1]:80/x");
    assertThat(UrlRedaction.redactPath(URI.create("https://hooks.slack.com/services/T0/B0/XXXX")))
        .isEqualTo("https://hooks.slack.com/***");
  }

  @Test
  void retryAfter() {
    Instant now = Instant.parse("2026-02-25T10:00:00Z");
    assertThat(RetryAfter.parse("120", now)).contains(Duration.ofSeconds(120));
    assertThat(RetryAfter.parse(" 0 ", now)).contains(Duration.ZERO);
    assertThat(RetryAfter.parse("Wed, 25 Feb 2026 10:01:30 GMT", now)).contains(Duration.ofSeconds(90));
    assertThat(RetryAfter.parse("Wed, 25 Feb 2026 09:00:00 GMT", now)).contains(Duration.ZERO);
    assertThat(RetryAfter.parse("99999999999999", now)).contains(RetryAfter.MAX);
    assertThat(RetryAfter.parse("soon", now)).isEmpty();
    assertThat(RetryAfter.parse("-5", now)).isEmpty();
  }

  @Test
  void scrubber() {
    Scrubber s = new Scrubber(List.of("tok-123456", "ab", "query=xyz"));
    assertThat(s.scrub("failed with tok-123456 and query=xyz ab")).isEqualTo("failed with *** and *** ab");
  }

  @Test
  void jsonEscape() {
    assertThat(BodyTemplate.jsonEscape("a\"b\\c\n\u0001\u2028")).isEqualTo("a\\\"b\\\\c\\n\\u0001\\u2028");
  }
}
