package dev.fraiseql.observers.spring.mariaapp;

import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

@Entity
@Table(name = "tb_sbstarter_widget")
public class Widget {
  @Id
  @GeneratedValue(strategy = GenerationType.IDENTITY)
  private Long id;
  private String name;
  @Column(name = "qty")
  private int quantity;

  protected Widget() {}

  public Widget(String name, int quantity) {
    this.name = name;
    this.quantity = quantity;
  }

  public Long getId() {
    return id;
  }

  public void setQuantity(int quantity) {
    this.quantity = quantity;
  }
}
