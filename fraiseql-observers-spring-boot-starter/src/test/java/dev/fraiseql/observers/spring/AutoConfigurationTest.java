package dev.fraiseql.observers.spring;

import static org.assertj.core.api.Assertions.assertThat;

import static org.awaitility.Awaitility.await;

import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.ObserverHandler;
import dev.fraiseql.observers.Operation;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.context.SecurityContextHolder;

/** The auto-configuration without a database: config location, Java handlers, errors, shutdown. */
class AutoConfigurationTest {
  private final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(FraiseqlObserversAutoConfiguration.class));

  static final List<ObservedEvent> SEEN = new CopyOnWriteArrayList<>();

  @Configuration(proxyBeanMethods = false)
  static class AnnotatedHandler {
    @Bean
    Inventory inventory() {
      return new Inventory();
    }
  }

  static class Inventory {
    @ObserverHandlerMethod("reserveInventory")
    void reserve(ObservedEvent event) {
      SEEN.add(event);
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class HandlerBean {
    @Bean
    ObserverHandler reserveInventory() {
      return SEEN::add;
    }
  }

  private static ObservedEvent order() {
    return ObservedEvent.builder().operation(Operation.INSERT).table("tb_order").newRow(Map.of("id", 7)).build();
  }

  @Test
  void anAnnotatedBeanMethodIsTheJavaHandlerTheTomlNames() throws Exception {
    SEEN.clear();
    runner.withUserConfiguration(AnnotatedHandler.class)
        .withPropertyValues("fraiseql.observers.config=classpath:fraiseql-handlers.toml")
        .run(ctx -> {
          assertThat(ctx).hasNotFailed().hasSingleBean(ObserverEngine.class).hasSingleBean(ObserverEventPublisher.class);
          // no transaction: dispatched at once
          ctx.getBean(ObserverEventPublisher.class).publish(order());
          ctx.getBean(ObserverEngine.class).onCommit(order()).completion().toCompletableFuture().get(5, TimeUnit.SECONDS);
          // publish() dispatches asynchronously and returns nothing to wait on: wait for its delivery too
          await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(SEEN).hasSize(2));
          assertThat(SEEN).hasSize(2).allSatisfy(e -> assertThat(e.newRow()).hasValue(Map.of("id", 7)));
        });
  }

  @Test
  void anObserverHandlerBeanIsRegisteredUnderItsBeanName() throws Exception {
    SEEN.clear();
    runner.withUserConfiguration(HandlerBean.class)
        .withPropertyValues("fraiseql.observers.config=classpath:fraiseql-handlers.toml")
        .run(ctx -> {
          ctx.getBean(ObserverEngine.class).onCommit(order()).completion().toCompletableFuture().get(5, TimeUnit.SECONDS);
          assertThat(SEEN).hasSize(1);
        });
  }

  @Test
  void theShortFormActionNamesABeanOrAnAnnotatedMethod() throws Exception {
    for (Class<?> config : List.of(HandlerBean.class, AnnotatedHandler.class)) {
      SEEN.clear();
      runner.withUserConfiguration(config)
          .withPropertyValues("fraiseql.observers.config=classpath:fraiseql-shortform.toml")
          .run(ctx -> {
            assertThat(ctx).hasNotFailed();
            ctx.getBean(ObserverEngine.class).onCommit(order()).completion().toCompletableFuture().get(5, TimeUnit.SECONDS);
            assertThat(SEEN).hasSize(1);
          });
    }
    // no bean declares it: the engine's own error, naming the action and the line
    runner.withPropertyValues("fraiseql.observers.config=classpath:fraiseql-shortform.toml")
        .run(ctx -> assertThat(ctx).hasFailed().getFailure().rootCause()
            .hasMessageContaining("fraiseql-shortform.toml").hasMessageContaining("unknown action `reserveInventory`"));
  }

  @Test
  void aJavaHandlerNoBeanProvidesFailsTheStartWithTheFix() {
    runner.withPropertyValues("fraiseql.observers.config=classpath:fraiseql-handlers.toml")
        .run(ctx -> assertThat(ctx).hasFailed().getFailure()
            .hasMessageContaining("fraiseql-handlers.toml names the Java handler 'reserveInventory'")
            .hasMessageContaining("@ObserverHandlerMethod(\"reserveInventory\")"));
  }

  @Test
  void aMissingConfigFileNamesTheLocationAndTheFix() {
    runner.withPropertyValues("fraiseql.observers.config=file:/nonexistent/fraiseql.toml")
        .run(ctx -> assertThat(ctx).hasFailed().getFailure().rootCause()
            .hasMessageContaining("fraiseql.observers.config = file:/nonexistent/fraiseql.toml: no such file")
            .hasMessageContaining("src/main/resources/fraiseql.toml"));
  }

  @Test
  void aConfigErrorNamesTheFileAndKey() {
    runner.withPropertyValues("fraiseql.observers.config=classpath:fraiseql-bad.toml")
        .run(ctx -> assertThat(ctx).hasFailed().getFailure().rootCause()
            .hasMessageContaining("fraiseql-bad.toml").hasMessageContaining("max_atempts"));
  }

  @Test
  void theEngineClosesWithTheContext() {
    ObserverEngine[] engine = new ObserverEngine[1];
    runner.withUserConfiguration(HandlerBean.class)
        .withPropertyValues("fraiseql.observers.config=classpath:fraiseql-handlers.toml")
        .run(ctx -> engine[0] = ctx.getBean(ObserverEngine.class));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> engine[0].onCommit(order()))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void theSpringSecurityPrincipalBecomesTheEventsUser() throws Exception {
    SEEN.clear();
    runner.withUserConfiguration(HandlerBean.class)
        .withPropertyValues("fraiseql.observers.config=classpath:fraiseql-handlers.toml")
        .run(ctx -> {
          SecurityContextHolder.getContext().setAuthentication(
              UsernamePasswordAuthenticationToken.authenticated("alice", "n/a", List.of()));
          try {
            ctx.getBean(ObserverEventPublisher.class).publish(order());
            ctx.getBean(ObserverEventPublisher.class).publish(order().toBuilder()
                .context(MutationContext.builder().userId("explicit").build()).build());
          } finally {
            SecurityContextHolder.clearContext();
          }
          await().atMost(Duration.ofSeconds(5)).until(() -> SEEN.size() == 2);
          assertThat(SEEN).extracting(e -> e.context().userId().orElseThrow())
              .containsExactlyInAnyOrder("alice", "explicit");
        });
  }

  @Test
  void disabledMeansNoEngine() {
    runner.withPropertyValues("fraiseql.observers.enabled=false")
        .run(ctx -> assertThat(ctx).hasNotFailed().doesNotHaveBean(ObserverEngine.class));
  }
}
