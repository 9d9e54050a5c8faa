package dev.fraiseql.observers.spring.internal;

import java.util.Arrays;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import org.springframework.beans.factory.NoSuchBeanDefinitionException;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;

/**
 * The application's executor and scheduler beans named by {@code fraiseql.observers.executor} and
 * {@code fraiseql.observers.scheduler}, checked, and registered as dependencies of the engine so that
 * Spring closes the engine before them.
 */
public final class SpringExecutors {
  private SpringExecutors() {}

  /** The {@link Executor} bean {@code name} (a Spring {@code TaskExecutor} is one). */
  public static Executor executor(ConfigurableListableBeanFactory beans, String name, String engineBean) {
    Object bean = bean(beans, "fraiseql.observers.executor", name, Executor.class);
    if (!(bean instanceof Executor executor)) {
      throw new IllegalStateException("fraiseql.observers.executor = " + name + ": that bean is a "
          + bean.getClass().getName() + ", not a java.util.concurrent.Executor; name an executor bean such as "
          + "applicationTaskExecutor" + candidates(beans, Executor.class));
    }
    beans.registerDependentBean(name, engineBean);
    return executor;
  }

  /**
   * The scheduler bean {@code name}: a {@link ScheduledExecutorService}, or a
   * {@link ThreadPoolTaskScheduler}'s. Any other Spring {@code TaskScheduler} is refused: the engine
   * schedules retries, timeouts and its sweep on a {@code ScheduledExecutorService}, which a
   * {@code TaskScheduler} is not (it has no fixed-delay {@code schedule(Runnable, long, TimeUnit)}
   * returning cancellable futures to the engine's contract).
   */
  public static ScheduledExecutorService scheduler(ConfigurableListableBeanFactory beans, String name, String engineBean) {
    Object bean = bean(beans, "fraiseql.observers.scheduler", name, Object.class);
    ScheduledExecutorService scheduler;
    if (bean instanceof ScheduledExecutorService s) {
      scheduler = s;
    } else if (bean instanceof ThreadPoolTaskScheduler t) {
      scheduler = t.getScheduledExecutor();
    } else {
      throw new IllegalStateException("fraiseql.observers.scheduler = " + name + ": that bean is a "
          + bean.getClass().getName() + "; the engine schedules retries and timeouts on a "
          + "java.util.concurrent.ScheduledExecutorService, so name a ThreadPoolTaskScheduler (its executor is used) "
          + "or a ScheduledExecutorService bean, or leave the property out (the engine uses its own scheduler)"
          + candidates(beans, ThreadPoolTaskScheduler.class));
    }
    beans.registerDependentBean(name, engineBean);
    return scheduler;
  }

  private static Object bean(ConfigurableListableBeanFactory beans, String property, String name, Class<?> type) {
    try {
      return beans.getBean(name);
    } catch (NoSuchBeanDefinitionException e) {
      throw new IllegalStateException(property + " = " + name + ": no bean has that name" + candidates(beans, type));
    }
  }

  private static String candidates(ConfigurableListableBeanFactory beans, Class<?> type) {
    String[] names = beans.getBeanNamesForType(type, false, false);
    return names.length == 0 || type == Object.class ? "" : " (beans of type " + type.getSimpleName() + ": "
        + String.join(", ", Arrays.asList(names)) + ")";
  }
}
