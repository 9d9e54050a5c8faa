package dev.fraiseql.observers.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.micrometer.ObserverMetrics;
import dev.fraiseql.observers.spring.plainapp.PlainApp;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * With fraiseql-observers-micrometer and -opentelemetry on the classpath, Boot's MeterRegistry and an
 * OpenTelemetry bean, and no observer code in the application: a real webhook delivery is counted in
 * the registry and exported as a span of the publisher's trace, and the receiver gets the trace
 * parent in the event's context.
 */
@SpringBootTest(classes = {PlainApp.class, ObservabilityAutoConfigurationIT.Tracing.class},
    webEnvironment = SpringBootTest.WebEnvironment.NONE)
class ObservabilityAutoConfigurationIT {
  static final Receiver WELCOME = new Receiver(200);
  static final InMemorySpanExporter SPANS = InMemorySpanExporter.create();

  /** The application's OpenTelemetry: the SDK with an in-memory exporter (tests only). */
  @Configuration(proxyBeanMethods = false)
  static class Tracing {
    @Bean
    OpenTelemetry openTelemetry() {
      return OpenTelemetrySdk.builder()
          .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(SPANS)).build())
          .build();
    }
  }

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) {
    r.add("spring.autoconfigure.exclude", () -> PlainApp.NO_DATABASE);
    r.add("fraiseql.observers.config", () -> "classpath:fraiseql-observability.toml");
    r.add("WELCOME_EMAIL_SERVICE_URL", WELCOME::url);
  }

  @Autowired ObserverEventPublisher publisher;
  @Autowired MeterRegistry registry;
  @Autowired OpenTelemetry otel;

  @AfterAll
  static void stop() {
    WELCOME.close();
  }

  @Test
  void aDeliveryIsAMeterAndASpanOfThePublishersTrace() throws Exception {
    Span request = otel.getTracer("test").spanBuilder("POST /users").startSpan();
    try (Scope ignored = request.makeCurrent()) {
      publisher.publish(ObservedEvent.builder().operation(Operation.INSERT).table("tb_user")
          .newRow(Map.of("id", 1, "email", "ada@example.com")).build());
    } finally {
      request.end();
    }
    String traceId = request.getSpanContext().getTraceId();

    await().atMost(Duration.ofSeconds(10)).until(() -> WELCOME.bodies().size() == 1);
    JsonNode body = new ObjectMapper().readTree(WELCOME.bodies().get(0));
    assertThat(body.get("context").get("attributes").get("traceparent").asText()).contains(traceId);

    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      Counter delivered = registry.find(ObserverMetrics.DELIVERIES)
          .tags("handler", "welcome-email", "action", "webhook", "outcome", "delivered").counter();
      assertThat(delivered).isNotNull();
      assertThat(delivered.count()).isEqualTo(1.0);
    });
    assertThat(registry.find(ObserverMetrics.IN_FLIGHT).gauge()).isNotNull();

    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      List<SpanData> attempts = SPANS.getFinishedSpanItems().stream()
          .filter(s -> s.getName().equals("process welcome-email")).toList();
      assertThat(attempts).hasSize(1);
      assertThat(attempts.get(0).getTraceId()).isEqualTo(traceId);
      assertThat(attempts.get(0).getAttributes().get(dev.fraiseql.observers.opentelemetry.ObserverTracing.RESULT))
          .isEqualTo("delivered");
    });
  }
}
