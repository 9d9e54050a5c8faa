package dev.fraiseql.observers.examples.springboot;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Runs the Spring Boot example as bin/spring-boot does (against the PostgreSQL of the ITs) and asserts
 * that every printed check passed: REST calls with no publish call reach seed 001's receivers.
 */
class BlogExampleIT {
  @Test
  void theBlogApiDrivesSeed001sObserversWithNoPublishCall() throws Exception {
    PrintStream original = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int failures;
    try (PrintStream capture = new PrintStream(buf, true, StandardCharsets.UTF_8)) {
      System.setOut(capture);
      failures = BlogExample.run();
    } finally {
      System.setOut(original);
    }
    String out = buf.toString(StandardCharsets.UTF_8);
    System.out.print(out);
    assertThat(failures).as(out).isZero();
    assertThat(out).contains("PASS welcome-email: the request id of the REST call")
        .contains("PASS update-post-stats: only the update that published the post (condition)")
        .doesNotContain("FAIL ").contains("spring-boot example: all checks passed");
  }
}
