package dev.fraiseql.observers.spring.internal;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverHandler;
import dev.fraiseql.observers.spring.ObserverHandlerMethod;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.springframework.aop.support.AopUtils;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.util.ReflectionUtils;

/**
 * Collects Java handlers from the context as beans are initialized: beans implementing
 * {@link ObserverHandler} (under their bean name) and methods annotated {@link ObserverHandlerMethod}.
 */
public final class HandlerRegistry implements BeanPostProcessor {
  private final Map<String, Registered> handlers = new ConcurrentHashMap<>();

  record Registered(ObserverHandler handler, String origin) {}

  @Override
  public Object postProcessAfterInitialization(Object bean, String beanName) {
    if (bean instanceof ObserverHandler handler) {
      register(beanName, handler, "bean '" + beanName + "'");
    }
    Class<?> type = AopUtils.getTargetClass(bean);
    ReflectionUtils.doWithMethods(type, method -> {
      ObserverHandlerMethod annotation = method.getAnnotation(ObserverHandlerMethod.class);
      if (annotation != null) {
        register(annotation.value(), invoker(bean, method), type.getName() + "." + method.getName());
      }
    });
    return bean;
  }

  private static ObserverHandler invoker(Object bean, Method method) {
    if (method.getParameterCount() != 1 || !method.getParameterTypes()[0].isAssignableFrom(ObservedEvent.class)) {
      throw new IllegalStateException("@ObserverHandlerMethod " + method.getDeclaringClass().getName() + "."
          + method.getName() + " must take exactly one parameter of type ObservedEvent");
    }
    Method target = AopUtils.selectInvocableMethod(method, bean.getClass());
    ReflectionUtils.makeAccessible(target);
    return event -> {
      try {
        target.invoke(bean, event);
      } catch (InvocationTargetException e) {
        Throwable cause = e.getCause();
        if (cause instanceof Exception ex) {
          throw ex;
        }
        if (cause instanceof Error err) {
          throw err;
        }
        throw e;
      }
    };
  }

  private void register(String name, ObserverHandler handler, String origin) {
    Registered previous = handlers.putIfAbsent(name, new Registered(handler, origin));
    if (previous != null && !previous.origin.equals(origin)) {
      throw new IllegalStateException("two Java handlers are named '" + name + "': " + previous.origin
          + " and " + origin + "; give one of them another name");
    }
  }

  /**
   * The handler names the context's bean definitions declare, before any bean is created: beans of
   * type {@link ObserverHandler} (their names) and {@link ObserverHandlerMethod} values on the methods
   * of every bean's class.
   */
  public static java.util.Set<String> declaredNames(org.springframework.beans.factory.config.ConfigurableListableBeanFactory beans) {
    java.util.Set<String> names = new java.util.LinkedHashSet<>(
        java.util.Arrays.asList(beans.getBeanNamesForType(ObserverHandler.class, true, false)));
    for (String bean : beans.getBeanDefinitionNames()) {
      Class<?> type;
      try {
        type = beans.getType(bean, false);
      } catch (RuntimeException e) {
        continue;
      }
      if (type != null) {
        ReflectionUtils.doWithMethods(org.springframework.util.ClassUtils.getUserClass(type), method -> {
          ObserverHandlerMethod annotation = method.getAnnotation(ObserverHandlerMethod.class);
          if (annotation != null) {
            names.add(annotation.value());
          }
        });
      }
    }
    return names;
  }

  public Optional<ObserverHandler> find(String name) {
    return Optional.ofNullable(handlers.get(name)).map(Registered::handler);
  }

  /** A handler that looks its bean up when called, so the engine can be built before the bean exists. */
  public ObserverHandler lazy(String name) {
    return event -> find(name)
        .orElseThrow(() -> new IllegalStateException("no Spring bean provides the Java handler '" + name
            + "': annotate a bean method with @ObserverHandlerMethod(\"" + name
            + "\") or name an ObserverHandler bean '" + name + "'"))
        .handle(event);
  }
}
