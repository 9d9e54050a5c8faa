package dev.fraiseql.observers.spring.pgapp;

import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.util.UUID;

@Entity
@Table(name = "tb_user")
public class AppUser {
  @Id
  private UUID id;
  private String email;
  private String name;

  protected AppUser() {}

  public AppUser(UUID id, String email, String name) {
    this.id = id;
    this.email = email;
    this.name = name;
  }

  public UUID getId() {
    return id;
  }

  public void setName(String name) {
    this.name = name;
  }
}
