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
@Table(name = "tb_comment")
public class Comment {
  @Id
  @GeneratedValue(strategy = GenerationType.IDENTITY)
  @Column(name = "pk_comment")
  Long id;
  @ManyToOne
  @JoinColumn(name = "fk_post")
  Post post;
  @Column(name = "author_name")
  String authorName;
  @Column(name = "author_email")
  String authorEmail;
  String content;

  protected Comment() {}

  Comment(Post post, String authorName, String authorEmail, String content) {
    this.post = post;
    this.authorName = authorName;
    this.authorEmail = authorEmail;
    this.content = content;
  }
}
