package dev.fraiseql.observers.spring.pgapp;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.spring.ObserverEventPublisher;
import dev.fraiseql.observers.spring.ObserverHandlerMethod;
import jakarta.persistence.EntityManager;
import jakarta.persistence.PersistenceContext;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Import;
import org.springframework.stereotype.Component;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** A user API with no publish call: JPA capture turns its writes into events. */
@SpringBootConfiguration
@EnableAutoConfiguration
@Import({BlogApp.Users.class, BlogApp.UserController.class, BlogApp.Recorder.class})
public class BlogApp {

  @Service
  public static class Users {
    @PersistenceContext
    private EntityManager em;
    private final ObserverEventPublisher publisher;
    private final ApplicationEventPublisher springEvents;

    public Users(ObserverEventPublisher publisher, ApplicationEventPublisher springEvents) {
      this.publisher = publisher;
      this.springEvents = springEvents;
    }

    @Transactional
    public UUID create(String email, String name) {
      UUID id = UUID.randomUUID();
      em.persist(new AppUser(id, email, name));
      return id;
    }

    @Transactional
    public UUID createThenFail(String email, String name) {
      em.persist(new AppUser(UUID.randomUUID(), email, name));
      em.flush();
      throw new IllegalStateException("payment declined");
    }

    @Transactional
    public void rename(UUID id, String name) {
      em.find(AppUser.class, id).setName(name);
    }

    @Transactional
    public void delete(UUID id) {
      em.remove(em.find(AppUser.class, id));
    }

    /** Explicit events: one through our publisher, one through Spring's; both wait for the commit. */
    @Transactional
    public void placeOrder(String orderId, boolean fail, Runnable beforeCommit) {
      publisher.publish(ObservedEvent.builder().operation(Operation.INSERT).table("tb_order")
          .mutation("placeOrder").newRow(Map.of("id", orderId, "via", "publisher")).build());
      springEvents.publishEvent(ObservedEvent.builder().operation(Operation.INSERT).table("tb_order")
          .mutation("placeOrder").newRow(Map.of("id", orderId, "via", "spring")).build());
      beforeCommit.run();
      if (fail) {
        throw new IllegalStateException("out of stock");
      }
    }
  }

  @RestController
  public static class UserController {
    private final Users users;

    public UserController(Users users) {
      this.users = users;
    }

    @PostMapping("/users")
    public String create(@RequestParam("email") String email, @RequestParam("name") String name) {
      return users.create(email, name).toString();
    }

    /** An async request: the body written on the async dispatch must still reach the client. */
    @PostMapping("/users/async")
    public java.util.concurrent.Callable<String> createAsync(@RequestParam("email") String email,
        @RequestParam("name") String name) {
      return () -> "async:" + users.create(email, name);
    }

    @PostMapping("/users/failing")
    public String createFailing(@RequestParam("email") String email, @RequestParam("name") String name) {
      return users.createThenFail(email, name).toString();
    }

    @PutMapping("/users/{id}")
    public String rename(@PathVariable("id") UUID id, @RequestParam("name") String name) {
      users.rename(id, name);
      return "ok";
    }

    @DeleteMapping("/users/{id}")
    public String delete(@PathVariable("id") UUID id) {
      users.delete(id);
      return "ok";
    }
  }

  /** The Java handler the TOML names ({@code handler = "recorder"}). */
  @Component
  public static class Recorder {
    public final List<ObservedEvent> events = new CopyOnWriteArrayList<>();

    @ObserverHandlerMethod("recorder")
    void record(ObservedEvent event) {
      events.add(event);
    }
  }
}
