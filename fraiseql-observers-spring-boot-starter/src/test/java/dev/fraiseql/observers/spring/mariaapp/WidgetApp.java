package dev.fraiseql.observers.spring.mariaapp;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverHandler;
import jakarta.persistence.EntityManager;
import jakarta.persistence.PersistenceContext;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/** A JPA application on MariaDB: capture on, one ObserverHandler bean named in the TOML. */
@SpringBootConfiguration
@EnableAutoConfiguration
@Import(WidgetApp.Widgets.class)
public class WidgetApp {
  public static final List<ObservedEvent> SEEN = new CopyOnWriteArrayList<>();

  /** Registered under its bean name, {@code widgetRecorder}. */
  @Bean
  ObserverHandler widgetRecorder() {
    return SEEN::add;
  }

  @Service
  public static class Widgets {
    @PersistenceContext
    private EntityManager em;

    @Transactional
    public long create(String name, int quantity) {
      Widget w = new Widget(name, quantity);
      em.persist(w);
      return w.getId();
    }

    @Transactional
    public void setQuantity(long id, int quantity) {
      em.find(Widget.class, id).setQuantity(quantity);
    }

    @Transactional
    public void delete(long id) {
      em.remove(em.find(Widget.class, id));
    }

    @Transactional
    public void createThenFail(String name) {
      em.persist(new Widget(name, 1));
      em.flush();
      throw new IllegalStateException("rolled back on purpose");
    }
  }
}
