package dev.fraiseql.observers.examples.springboot;

import jakarta.persistence.EntityManager;
import jakarta.persistence.PersistenceContext;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** Seed 001's blog API over REST. Not one publish call: the starter captures the JPA writes. */
@RestController
@Service
public class BlogApi {
  @PersistenceContext
  private EntityManager em;

  @PostMapping("/users")
  @Transactional
  public String createUser(@RequestParam String email, @RequestParam String name) {
    User u = new User(email, name);
    em.persist(u);
    em.flush();
    return String.valueOf(u.id);
  }

  @PostMapping("/posts")
  @Transactional
  public String createPost(@RequestParam long author, @RequestParam String title) {
    Post p = new Post(em.getReference(User.class, author), title);
    em.persist(p);
    em.flush();
    return String.valueOf(p.id);
  }

  @PostMapping("/posts/{id}/publish")
  @Transactional
  public String publish(@PathVariable long id) {
    em.find(Post.class, id).status = "published";
    return "ok";
  }

  @PostMapping("/posts/{id}/retitle")
  @Transactional
  public String retitle(@PathVariable long id, @RequestParam String title) {
    em.find(Post.class, id).title = title;
    return "ok";
  }

  @PostMapping("/posts/{id}/comments")
  @Transactional
  public String comment(@PathVariable long id, @RequestParam String authorName, @RequestParam String authorEmail,
      @RequestParam String content) {
    Comment c = new Comment(em.getReference(Post.class, id), authorName, authorEmail, content);
    em.persist(c);
    em.flush();
    return String.valueOf(c.id);
  }
}
