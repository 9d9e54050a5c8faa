package dev.fraiseql.observers.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.ObserverHandler;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.micrometer.ObserverMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.springframework.scheduling.concurrent.SimpleAsyncTaskScheduler;
import org.springframework.scheduling.concurrent.ThreadPoolTaskExecutor;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;

/**
 * The application's executor and scheduler beans ({@code fraiseql.observers.executor} /
 * {@code .scheduler}), the metrics switch, and the start-up checks of trigger context; no servers.
 */
class ExecutorWiringTest {
  private final ApplicationContextRunner runner = new ApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(FraiseqlObserversAutoConfiguration.class));

  static final List<String> THREADS = new CopyOnWriteArrayList<>();
  static final AtomicInteger ATTEMPTS = new AtomicInteger();

  @Configuration(proxyBeanMethods = false)
  static class AppExecutors {
    @Bean
    ThreadPoolTaskExecutor appExecutor() {
      ThreadPoolTaskExecutor e = new ThreadPoolTaskExecutor();
      e.setThreadNamePrefix("app-exec-");
      e.setCorePoolSize(2);
      return e;
    }

    @Bean
    ThreadPoolTaskScheduler appScheduler() {
      ThreadPoolTaskScheduler s = new ThreadPoolTaskScheduler();
      s.setThreadNamePrefix("app-sched-");
      s.setPoolSize(1);
      return s;
    }

    @Bean
    SimpleAsyncTaskScheduler virtualScheduler() {
      return new SimpleAsyncTaskScheduler();
    }

    /** Fails its first attempt, then records the thread it ran on. */
    @Bean
    ObserverHandler flaky() {
      return event -> {
        if (ATTEMPTS.incrementAndGet() == 1) {
          throw new IllegalStateException("first attempt fails");
        }
        THREADS.add(Thread.currentThread().getName());
      };
    }
  }

  private static ObservedEvent order() {
    return ObservedEvent.builder().operation(Operation.INSERT).table("tb_order").newRow(Map.of("id", 7)).build();
  }

  @Test
  void handlersRunOnTheNamedExecutorAndRetriesAreTimedOnTheNamedScheduler() {
    THREADS.clear();
    ATTEMPTS.set(0);
    runner.withUserConfiguration(AppExecutors.class)
        .withPropertyValues("fraiseql.observers.config=classpath:fraiseql-retry.toml",
            "fraiseql.observers.executor=appExecutor", "fraiseql.observers.scheduler=appScheduler")
        .run(ctx -> {
          assertThat(ctx).hasNotFailed();
          ScheduledThreadPoolExecutor scheduler = (ScheduledThreadPoolExecutor)
              ctx.getBean(ThreadPoolTaskScheduler.class).getScheduledExecutor();
          long before = scheduler.getTaskCount();
          assertThat(scheduler.getQueue()).as("the engine's timeout sweep is scheduled there").isNotEmpty();
          ctx.getBean(ObserverEngine.class).onCommit(order());
          await().atMost(Duration.ofSeconds(5)).until(() -> THREADS.size() == 1);
          assertThat(ATTEMPTS).hasValue(2);
          assertThat(THREADS.get(0)).startsWith("app-exec-");
          assertThat(scheduler.getTaskCount()).as("the retry's timer").isGreaterThan(before);
          // Spring closes the engine before the beans it runs on
          assertThat(ctx.getBeanFactory().getDependentBeans("appExecutor")).contains("observerEngine");
          assertThat(ctx.getBeanFactory().getDependentBeans("appScheduler")).contains("observerEngine");
        });
  }

  @Test
  void aTaskSchedulerThatIsNotAScheduledExecutorIsRefusedWithTheReason() {
    runner.withUserConfiguration(AppExecutors.class)
        .withPropertyValues("fraiseql.observers.config=classpath:fraiseql-retry.toml",
            "fraiseql.observers.scheduler=virtualScheduler")
        .run(ctx -> assertThat(ctx).hasFailed().getFailure().rootCause()
            .hasMessageContaining("fraiseql.observers.scheduler = virtualScheduler")
            .hasMessageContaining("SimpleAsyncTaskScheduler")
            .hasMessageContaining("ScheduledExecutorService")
            .hasMessageContaining("appScheduler"));
  }

  @Test
  void anExecutorNameNoBeanHasIsRefusedWithTheCandidates() {
    runner.withUserConfiguration(AppExecutors.class)
        .withPropertyValues("fraiseql.observers.config=classpath:fraiseql-retry.toml",
            "fraiseql.observers.executor=taskExecutr")
        .run(ctx -> assertThat(ctx).hasFailed().getFailure().rootCause()
            .hasMessageContaining("fraiseql.observers.executor = taskExecutr: no bean has that name")
            .hasMessageContaining("appExecutor"));
  }

  @Configuration(proxyBeanMethods = false)
  static class Registry {
    @Bean
    SimpleMeterRegistry meterRegistry() {
      return new SimpleMeterRegistry();
    }

    @Bean
    ObserverHandler reserveInventory() {
      return event -> { };
    }
  }

  @Test
  void metricsAreBoundWhenARegistryIsThereAndCanBeSwitchedOff() {
    runner.withUserConfiguration(Registry.class)
        .withPropertyValues("fraiseql.observers.config=classpath:fraiseql-handlers.toml")
        .run(ctx -> {
          assertThat(ctx).hasNotFailed().hasSingleBean(ObserverMetrics.class);
          assertThat(ctx.getBean(SimpleMeterRegistry.class).find(ObserverMetrics.IN_FLIGHT).gauge()).isNotNull();
        });
    runner.withUserConfiguration(Registry.class)
        .withPropertyValues("fraiseql.observers.config=classpath:fraiseql-handlers.toml",
            "fraiseql.observers.metrics.enabled=false")
        .run(ctx -> assertThat(ctx).hasNotFailed().doesNotHaveBean(ObserverMetrics.class));
    runner.withUserConfiguration(HandlerOnly.class)
        .withPropertyValues("fraiseql.observers.config=classpath:fraiseql-handlers.toml")
        .run(ctx -> assertThat(ctx).hasNotFailed().doesNotHaveBean(ObserverMetrics.class));
  }

  @Configuration(proxyBeanMethods = false)
  static class HandlerOnly {
    @Bean
    ObserverHandler reserveInventory() {
      return event -> { };
    }

    /** Never connected to: the relay only starts (the checks run before anything is captured). */
    @Bean
    DataSource dataSource() {
      return new DriverManagerDataSource("jdbc:postgresql://127.0.0.1:1/none");
    }
  }

  @Test
  void triggerContextWithJpaCaptureIsRefused() {
    runner.withUserConfiguration(HandlerOnly.class)
        .withPropertyValues("fraiseql.observers.config=classpath:fraiseql-handlers.toml",
            "fraiseql.observers.postgres.trigger-context=true", "fraiseql.observers.jpa.capture=true",
            "fraiseql.observers.outbox.create-table=false")
        .run(ctx -> assertThat(ctx).hasFailed().getFailure()
            .hasMessageContaining("fraiseql.observers.jpa.capture=true")
            .hasMessageContaining("each would arrive twice"));
  }

  @Test
  void triggerContextWithoutTriggerCaptureIsRefused() {
    runner.withUserConfiguration(HandlerOnly.class)
        .withPropertyValues("fraiseql.observers.config=classpath:fraiseql-handlers.toml",
            "fraiseql.observers.postgres.trigger-context=true", "fraiseql.observers.outbox.create-table=false")
        .run(ctx -> assertThat(ctx).hasFailed().getFailure()
            .hasMessageContaining("fraiseql-handlers.toml does not switch trigger capture on")
            .hasMessageContaining("capture = \"triggers\""));
  }
}
