package dev.fraiseql.observers.spring;

import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.ObserverListener;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.SubscriptionConfig;
import dev.fraiseql.observers.pg.PgOutbox;
import dev.fraiseql.observers.pg.PgOutboxRelay;
import dev.fraiseql.observers.spring.internal.ContextDecorator;
import dev.fraiseql.observers.spring.internal.HandlerRegistry;
import dev.fraiseql.observers.spring.internal.HealthPart;
import dev.fraiseql.observers.spring.internal.RelayHealthPart;
import dev.fraiseql.observers.spring.internal.SpringExecutors;
import dev.fraiseql.observers.spring.internal.TracingContexts;
import dev.fraiseql.observers.spring.internal.TriggerContextDataSource;
import dev.fraiseql.observers.spring.internal.HibernateCapture;
import dev.fraiseql.observers.spring.internal.HibernateCaptureRegistrar;
import dev.fraiseql.observers.spring.internal.ObserverRequestFilter;
import dev.fraiseql.observers.spring.internal.ObserversEndpoint;
import dev.fraiseql.observers.spring.internal.ObserversHealthIndicator;
import dev.fraiseql.observers.spring.internal.OutboxWriter;
import dev.fraiseql.observers.spring.internal.PgOutboxWriter;
import dev.fraiseql.observers.spring.internal.TransactionalObserverPublisher;
import jakarta.persistence.EntityManagerFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.boot.autoconfigure.condition.AnyNestedCondition;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.core.io.Resource;
import org.springframework.core.io.ResourceLoader;
import org.springframework.util.StringUtils;

/**
 * Auto-configuration: one {@link ObserverEngine} from {@code fraiseql.toml}
 * ({@code fraiseql.observers.config}, default {@code classpath:fraiseql.toml}), with the application's
 * {@link DataSource} as a component, Spring beans as Java handlers, {@link ObserverListener} beans as
 * listeners, and an {@link ObserverEventPublisher} that dispatches after commit. {@code ${VAR}} in the
 * file is resolved from Spring's {@link Environment} (so from properties as well as the process
 * environment). The engine closes with the context, after the web server's graceful shutdown.
 */
@AutoConfiguration(afterName = {
    "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
    "org.springframework.boot.hibernate.autoconfigure.HibernateJpaAutoConfiguration",
    // the MeterRegistry and OpenTelemetry beans the observability wiring is conditional on
    "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
    "org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration",
    "org.springframework.boot.opentelemetry.autoconfigure.OpenTelemetrySdkAutoConfiguration"})
@ConditionalOnProperty(prefix = "fraiseql.observers", name = "enabled", matchIfMissing = true)
@EnableConfigurationProperties(FraiseqlObserversProperties.class)
public class FraiseqlObserversAutoConfiguration {

  @Bean
  static HandlerRegistry fraiseqlObserverHandlerRegistry() {
    return new HandlerRegistry();
  }

  static final String ENGINE_BEAN = "observerEngine";

  @Bean(name = ENGINE_BEAN, destroyMethod = "close")
  @ConditionalOnMissingBean
  ObserverEngine observerEngine(FraiseqlObserversProperties properties, ResourceLoader resources,
      Environment environment, ObjectProvider<DataSource> dataSource, HandlerRegistry registry,
      ObjectProvider<ObserverListener> listeners, ConfigurableListableBeanFactory beans) {
    Function<String, Optional<String>> env = name -> Optional.ofNullable(environment.getProperty(name));
    ObserversConfig config = loadConfig(properties.getConfig(), resources, env);
    ObserverEngine.Builder builder = ObserverEngine.builder().config(config).env(env);
    Set<String> bound = javaHandlerNames(config);
    for (String name : bound) {
      builder.handler(name, registry.lazy(name));
    }
    // the short form, action = "<Java handler name>": bound when a bean declares that name (an action
    // type of that name, such as webhook, still wins in the engine)
    Set<String> declared = null;
    for (HandlerConfig h : config.handlers()) {
      if (!"handler".equals(h.action()) && !bound.contains(h.action())) {
        if (declared == null) {
          declared = HandlerRegistry.declaredNames(beans);
        }
        if (declared.contains(h.action())) {
          builder.handler(h.action(), registry.lazy(h.action()));
          bound.add(h.action());
        }
      }
    }
    dataSource.ifAvailable(ds -> builder.component(DataSource.class, ds));
    listeners.orderedStream().forEach(builder::listener);
    if (StringUtils.hasText(properties.getExecutor())) {
      builder.executor(SpringExecutors.executor(beans, properties.getExecutor().trim(), ENGINE_BEAN));
    }
    if (StringUtils.hasText(properties.getScheduler())) {
      builder.scheduler(SpringExecutors.scheduler(beans, properties.getScheduler().trim(), ENGINE_BEAN));
    }
    return builder.build();
  }

  /** Fails the start-up when the configuration names a Java handler no bean provides. */
  @Bean
  SmartInitializingSingleton fraiseqlObserverHandlerCheck(ObserverEngine engine, HandlerRegistry registry) {
    return () -> {
      for (String name : javaHandlerNames(engine.config())) {
        if (registry.find(name).isEmpty()) {
          throw new IllegalStateException(engine.config().source() + " names the Java handler '" + name
              + "', but no Spring bean provides it: annotate a bean method with @ObserverHandlerMethod(\""
              + name + "\") or declare an ObserverHandler bean named '" + name + "'");
        }
      }
    };
  }

  @Bean
  @ConditionalOnMissingBean(ObserverEventPublisher.class)
  TransactionalObserverPublisher observerEventPublisher(ObserverEngine engine, ObjectProvider<OutboxWriter> outbox,
      ObjectProvider<ContextDecorator> decorators) {
    return new TransactionalObserverPublisher(engine, Optional.ofNullable(outbox.getIfAvailable()),
        decorators.orderedStream().toList());
  }

  static ObserversConfig loadConfig(String location, ResourceLoader resources, Function<String, Optional<String>> env) {
    Resource resource = resources.getResource(location);
    if (!resource.exists()) {
      throw new IllegalStateException("fraiseql.observers.config = " + location
          + ": no such file. Put fraiseql.toml at the classpath root (src/main/resources/fraiseql.toml), "
          + "or set fraiseql.observers.config=file:/path/to/fraiseql.toml");
    }
    String toml;
    try {
      toml = resource.getContentAsString(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("fraiseql.observers.config = " + location + ": cannot read it: "
          + e.getMessage());
    }
    String source = resource.getFilename() != null ? resource.getFilename() : location;
    return ObserversConfig.parse(toml, source, env);
  }

  static Set<String> javaHandlerNames(ObserversConfig config) {
    Set<String> names = new LinkedHashSet<>();
    for (HandlerConfig h : config.handlers()) {
      if ("handler".equals(h.action())) {
        h.settings().string("handler").ifPresent(names::add);
      }
    }
    for (SubscriptionConfig s : config.subscriptions()) {
      names.add(s.handler());
    }
    return names;
  }

  /** Events published inside a transaction go to the outbox table on the transaction's connection. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = {"dev.fraiseql.observers.pg.PgOutbox", "org.springframework.jdbc.datasource.DataSourceUtils"})
  @ConditionalOnProperty(prefix = "fraiseql.observers.outbox", name = "enabled", havingValue = "true")
  static class OutboxConfiguration {
    @Bean
    @ConditionalOnMissingBean
    OutboxWriter fraiseqlObserverOutboxWriter(FraiseqlObserversProperties properties, DataSource dataSource) {
      return new PgOutboxWriter(properties.getOutbox().getTable(), dataSource);
    }
  }

  /**
   * The relay that reads the outbox and dispatches through the engine (with the outbox, or with
   * trigger capture, whose triggers write into the outbox); closed before the engine. Its liveness and
   * the backlog are part of the {@code observers} health.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = {"dev.fraiseql.observers.pg.PgOutbox", "org.springframework.jdbc.datasource.DataSourceUtils"})
  @ConditionalOnProperty(prefix = "fraiseql.observers.outbox", name = "relay", havingValue = "true", matchIfMissing = true)
  @Conditional(OutboxOrTriggerContext.class)
  static class RelayConfiguration {
    static final String RELAY_BEAN = "fraiseqlObserverOutboxRelay";

    @Bean(name = RELAY_BEAN, destroyMethod = "close")
    PgOutboxRelay fraiseqlObserverOutboxRelay(FraiseqlObserversProperties properties, ObserverEngine engine,
        DataSource dataSource, ConfigurableListableBeanFactory beans) {
      // JPA first: Hibernate's schema generation (ddl-auto) creates the tables the capture triggers go on
      // (and closed after the relay stops, since ddl-auto=create-drop drops them)
      if (org.springframework.util.ClassUtils.isPresent("jakarta.persistence.EntityManagerFactory", beans.getBeanClassLoader())) {
        try {
          Class<?> emf = org.springframework.util.ClassUtils.forName("jakarta.persistence.EntityManagerFactory",
              beans.getBeanClassLoader());
          for (String name : beans.getBeanNamesForType(emf)) {
            beans.getBean(name);
            beans.registerDependentBean(name, RELAY_BEAN);
          }
        } catch (ClassNotFoundException e) {
          // not there after all: nothing to wait for
        }
      }
      return PgOutboxRelay.builder(engine, dataSource)
          .outbox(PgOutbox.forTable(properties.getOutbox().getTable()))
          .createTable(properties.getOutbox().isCreateTable())
          .start();
    }

    @Bean
    RelayHealthPart fraiseqlObserverRelayHealth(PgOutboxRelay relay, DataSource dataSource,
        FraiseqlObserversProperties properties) {
      return new RelayHealthPart(relay, dataSource, properties.getHealth().getRelayStaleAfter(),
          properties.getHealth().isBacklog());
    }
  }

  /** {@code outbox.enabled=true} or {@code postgres.trigger-context=true}. */
  static final class OutboxOrTriggerContext extends AnyNestedCondition {
    OutboxOrTriggerContext() {
      super(ConfigurationPhase.REGISTER_BEAN);
    }

    @ConditionalOnProperty(prefix = "fraiseql.observers.outbox", name = "enabled", havingValue = "true")
    static class Outbox {}

    @ConditionalOnProperty(prefix = "fraiseql.observers.postgres", name = "trigger-context", havingValue = "true")
    static class TriggerContext {}
  }

  /**
   * PostgreSQL trigger capture: each transaction begun while a request (or a span) is current gets its
   * mutation context as {@code fraiseql.*} settings, which the capture triggers put into the events.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = {"dev.fraiseql.observers.pg.PgMutationContext", "org.springframework.jdbc.datasource.DelegatingDataSource"})
  @ConditionalOnProperty(prefix = "fraiseql.observers.postgres", name = "trigger-context", havingValue = "true")
  static class TriggerContextConfiguration {
    @Bean
    static BeanPostProcessor fraiseqlObserverTriggerContext(ObjectProvider<ContextDecorator> decorators) {
      return new BeanPostProcessor() {
        @Override
        public Object postProcessAfterInitialization(Object bean, String beanName) {
          if (bean instanceof DataSource ds && !(bean instanceof TriggerContextDataSource)) {
            return new TriggerContextDataSource(ds, () -> {
              MutationContext c = TransactionalObserverPublisher.withRequestContext(MutationContext.empty());
              for (ContextDecorator d : decorators.orderedStream().toList()) {
                c = d.decorate(c);
              }
              return c;
            });
          }
          return bean;
        }
      };
    }

    /** Refuses the start-up when the settings would capture nothing, or every change twice. */
    @Bean
    SmartInitializingSingleton fraiseqlObserverTriggerContextCheck(ObserverEngine engine,
        FraiseqlObserversProperties properties) {
      return () -> {
        if (properties.getJpa().isCapture()) {
          throw new IllegalStateException("fraiseql.observers.postgres.trigger-context=true and "
              + "fraiseql.observers.jpa.capture=true: the capture triggers and Hibernate would both send every "
              + "change, so each would arrive twice. Keep one: remove fraiseql.observers.jpa.capture (the triggers "
              + "also see writes made outside JPA), or remove fraiseql.observers.postgres.trigger-context");
        }
        if (!dev.fraiseql.observers.pg.PgCapture.of(engine.config()).enabled()) {
          throw new IllegalStateException("fraiseql.observers.postgres.trigger-context=true, but "
              + engine.config().source() + " does not switch trigger capture on, so no change would be captured: "
              + "add capture = \"triggers\" under [observers.postgres] (see the pg module's README, Zero-code "
              + "capture), or remove fraiseql.observers.postgres.trigger-context");
        }
      };
    }
  }

  /** Micrometer: the engine's metrics in the application's MeterRegistry. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = {"dev.fraiseql.observers.micrometer.ObserverMetrics", "io.micrometer.core.instrument.MeterRegistry"})
  @ConditionalOnProperty(prefix = "fraiseql.observers.metrics", name = "enabled", matchIfMissing = true)
  static class MetricsConfiguration {
    @Bean
    @ConditionalOnBean(type = "io.micrometer.core.instrument.MeterRegistry")
    @ConditionalOnMissingBean
    dev.fraiseql.observers.micrometer.ObserverMetrics fraiseqlObserverMetrics(
        io.micrometer.core.instrument.MeterRegistry registry) {
      return dev.fraiseql.observers.micrometer.ObserverMetrics.builder(registry).build();
    }

    /** Binds the gauges and the handlers' action tags once the engine is built. */
    @Bean
    @ConditionalOnBean(type = "dev.fraiseql.observers.micrometer.ObserverMetrics")
    SmartInitializingSingleton fraiseqlObserverMetricsBinding(dev.fraiseql.observers.micrometer.ObserverMetrics metrics,
        ObserverEngine engine) {
      return () -> metrics.bindTo(engine);
    }
  }

  /** Micrometer and the outbox relay: the backlog gauges and the relay's counters, tagged with the table. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = {"dev.fraiseql.observers.micrometer.ObserverMetrics", "io.micrometer.core.instrument.MeterRegistry",
      "dev.fraiseql.observers.pg.PgOutboxRelay"})
  @ConditionalOnProperty(prefix = "fraiseql.observers.metrics", name = "enabled", matchIfMissing = true)
  static class RelayMetricsConfiguration {
    @Bean
    SmartInitializingSingleton fraiseqlObserverRelayMetrics(
        ObjectProvider<dev.fraiseql.observers.micrometer.ObserverMetrics> metrics, ObjectProvider<PgOutboxRelay> relays,
        ObjectProvider<DataSource> dataSource) {
      return () -> metrics.ifAvailable(m -> relays.orderedStream().forEach(relay -> {
        PgOutbox outbox = PgOutbox.forTable(relay.table());
        DataSource ds = dataSource.getObject();
        m.bindOutbox(relay.table(), java.time.Duration.ofSeconds(5), () -> {
          PgOutbox.Backlog b = outbox.backlog(ds, java.time.Duration.ofSeconds(2));
          return new dev.fraiseql.observers.micrometer.ObserverMetrics.Backlog(b.pending(), b.oldestAge());
        });
        m.bindRelay(relay.table(), relay::dispatchedCount, relay::inFlight);
      }));
    }
  }

  /** OpenTelemetry: a span per delivery attempt, and the current trace context in published events. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = {"dev.fraiseql.observers.opentelemetry.ObserverTracing", "io.opentelemetry.api.OpenTelemetry"})
  @ConditionalOnProperty(prefix = "fraiseql.observers.tracing", name = "enabled", matchIfMissing = true)
  static class TracingConfiguration {
    @Bean
    @ConditionalOnBean(type = "io.opentelemetry.api.OpenTelemetry")
    @ConditionalOnMissingBean
    dev.fraiseql.observers.opentelemetry.ObserverTracing fraiseqlObserverTracing(io.opentelemetry.api.OpenTelemetry otel) {
      return dev.fraiseql.observers.opentelemetry.ObserverTracing.create(otel);
    }

    @Bean
    @ConditionalOnBean(type = "dev.fraiseql.observers.opentelemetry.ObserverTracing")
    ContextDecorator fraiseqlObserverTraceContext(dev.fraiseql.observers.opentelemetry.ObserverTracing tracing) {
      return new TracingContexts(tracing);
    }
  }

  /** JPA entity changes captured from Hibernate's event listeners. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = {"org.hibernate.engine.spi.SessionFactoryImplementor", "jakarta.persistence.EntityManagerFactory"})
  @ConditionalOnProperty(prefix = "fraiseql.observers.jpa", name = "capture", havingValue = "true")
  static class JpaCaptureConfiguration {
    @Bean
    @ConditionalOnBean(EntityManagerFactory.class)
    HibernateCaptureRegistrar fraiseqlObserverJpaCapture(EntityManagerFactory emf, ObserverEventPublisher publisher) {
      return new HibernateCaptureRegistrar(emf, new HibernateCapture(publisher));
    }
  }

  /** Actuator: the {@code observers} endpoint. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.boot.actuate.endpoint.annotation.Endpoint")
  static class EndpointConfiguration {
    @Bean
    @ConditionalOnMissingBean
    ObserversEndpoint observersEndpoint(ObserverEngine engine) {
      return new ObserversEndpoint(engine);
    }
  }

  /** Actuator: the {@code observers} health indicator. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
  static class HealthConfiguration {
    @Bean
    @ConditionalOnMissingBean(name = "observersHealthIndicator")
    ObserversHealthIndicator observersHealthIndicator(ObserverEngine engine, ObjectProvider<HealthPart> parts) {
      return new ObserversHealthIndicator(engine, parts.orderedStream().toList());
    }
  }

  /** The mutation context of each servlet request, and synchronous handlers' warning header. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
  @ConditionalOnClass(name = "org.springframework.web.filter.OncePerRequestFilter")
  @ConditionalOnProperty(prefix = "fraiseql.observers.web", name = "enabled", matchIfMissing = true)
  static class WebConfiguration {
    @Bean
    ObserverRequestFilter fraiseqlObserverRequestFilter(FraiseqlObserversProperties properties, ObserverEngine engine) {
      boolean anySynchronous = engine.config().handlers().stream().anyMatch(HandlerConfig::synchronous);
      return new ObserverRequestFilter(properties.getWeb().getTenantHeader(),
          properties.getWeb().getRequestIdHeader(), anySynchronous, properties.getWeb().getTenantClaim());
    }
  }
}
