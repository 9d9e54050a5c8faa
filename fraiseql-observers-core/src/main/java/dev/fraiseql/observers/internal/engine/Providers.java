package dev.fraiseql.observers.internal.engine;

import dev.fraiseql.observers.internal.DidYouMean;
import dev.fraiseql.observers.spi.ActionProvider;
import dev.fraiseql.observers.spi.BackendProvider;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Action and backend providers: ServiceLoader's, then the builder's (which win on a name clash). */
final class Providers {
  private static final Logger LOG = LoggerFactory.getLogger(Providers.class);

  /** Where the known names live, for "add this dependency" hints. */
  static final Map<String, String> KNOWN_BACKENDS = Map.of(
      "nats", "dev.fraiseql:fraiseql-observers-nats",
      "redis", "dev.fraiseql:fraiseql-observers-redis",
      "postgres", "dev.fraiseql:fraiseql-observers-pg",
      "webhook", "dev.fraiseql:fraiseql-observers-webhook",
      "in-memory", "dev.fraiseql:fraiseql-observers-core");
  static final Map<String, String> KNOWN_ACTIONS = Map.of(
      "webhook", "dev.fraiseql:fraiseql-observers-webhook",
      "slack", "dev.fraiseql:fraiseql-observers-webhook",
      "sql", "dev.fraiseql:fraiseql-observers-pg",
      "publish", "dev.fraiseql:fraiseql-observers-core");

  private final Map<String, ActionProvider> actions = new LinkedHashMap<>();
  private final Map<String, BackendProvider> backends = new LinkedHashMap<>();

  Providers(EngineSpec spec) {
    ClassLoader cl = Thread.currentThread().getContextClassLoader();
    if (cl == null) {
      cl = Providers.class.getClassLoader();
    }
    actions.put(PublishActionProvider.NAME, new PublishActionProvider());
    load(ActionProvider.class, cl, actions);
    load(BackendProvider.class, cl, backends);
    if (cl != Providers.class.getClassLoader()) {
      load(ActionProvider.class, Providers.class.getClassLoader(), actions);
      load(BackendProvider.class, Providers.class.getClassLoader(), backends);
    }
    for (ActionProvider p : spec.actions()) {
      actions.put(p.name(), p);
    }
    for (BackendProvider p : spec.backends()) {
      backends.put(p.name(), p);
    }
  }

  @SuppressWarnings("unchecked")
  private static <T> void load(Class<T> type, ClassLoader cl, Map<String, T> into) {
    ServiceLoader<T> loader = ServiceLoader.load(type, cl);
    for (java.util.Iterator<T> it = loader.iterator(); ; ) {
      try {
        if (!it.hasNext()) {
          break;
        }
        T p = it.next();
        String name = type == ActionProvider.class ? ((ActionProvider) p).name() : ((BackendProvider) p).name();
        into.putIfAbsent(name, p);
      } catch (ServiceConfigurationError e) {
        LOG.warn("[observer] a {} on the classpath could not be loaded: {}", type.getSimpleName(), e.getMessage());
      }
    }
  }

  Optional<ActionProvider> action(String name) {
    return Optional.ofNullable(actions.get(name));
  }

  Optional<BackendProvider> backend(String name) {
    return Optional.ofNullable(backends.get(name));
  }

  String missingBackendHint(String name) {
    return hint(name, KNOWN_BACKENDS, backends.keySet(), "backends");
  }

  String missingActionHint(String name) {
    return hint(name, KNOWN_ACTIONS, actions.keySet(), "action types") + "; a Java handler registered under that name also works";
  }

  private static String hint(String name, Map<String, String> known, java.util.Set<String> found, String what) {
    String artifact = known.get(name);
    String onClasspath = what + " on the classpath: " + String.join(", ", new java.util.TreeSet<>(found));
    if (artifact != null) {
      return "add the dependency " + artifact + " (" + onClasspath + ")";
    }
    java.util.Set<String> all = new java.util.TreeSet<>(found);
    all.addAll(known.keySet());
    Optional<String> close = DidYouMean.closest(name, all);
    return close.map(c -> "did you mean `" + c + "`? (" + onClasspath + ")").orElse(onClasspath);
  }
}
