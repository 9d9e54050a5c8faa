package dev.fraiseql.observers.spring.plainapp;

import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;

/**
 * A web application with no JPA: tests start it with {@link #NO_JPA} excluded when it has no
 * DataSource either.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
public class PlainApp {
  /** {@code spring.autoconfigure.exclude} for an application without a database. */
  public static final String NO_DATABASE = "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration,"
      + "org.springframework.boot.hibernate.autoconfigure.HibernateJpaAutoConfiguration,"
      + "org.springframework.boot.data.jpa.autoconfigure.DataJpaRepositoriesAutoConfiguration";
  /** {@code spring.autoconfigure.exclude} for an application with a DataSource and no JPA. */
  public static final String NO_JPA = "org.springframework.boot.hibernate.autoconfigure.HibernateJpaAutoConfiguration,"
      + "org.springframework.boot.data.jpa.autoconfigure.DataJpaRepositoriesAutoConfiguration";
}
