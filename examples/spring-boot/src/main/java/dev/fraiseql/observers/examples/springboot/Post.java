package dev.fraiseql.observers.examples.springboot;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.JoinColumn;
import jakarta.persistence.ManyToOne;
import jakarta.persistence.Table;

@Entity
@Table(name = "tb_post")
public class Post {
  @Id
  @GeneratedValue(strategy = GenerationType.IDENTITY)
  @Column(name = "pk_post")
  Long id;
  @ManyToOne
  @JoinColumn(name = "fk_user")
  User author;
  String title;
  String status;

  protected Post() {}

  Post(User author, String title) {
    this.author = author;
    this.title = title;
    this.status = "draft";
  }
}
