package dev.fraiseql.observers.spring.internal;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.pg.PgOutbox;
import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DataSourceUtils;

/**
 * {@link PgOutbox#record} on the connection of the Spring transaction in progress
 * ({@link DataSourceUtils#getConnection}); the row commits or rolls back with the application's data.
 */
public final class PgOutboxWriter implements OutboxWriter {
  private final PgOutbox outbox;
  private final DataSource dataSource;

  public PgOutboxWriter(String table, DataSource dataSource) {
    this.outbox = PgOutbox.forTable(table);
    this.dataSource = dataSource;
  }

  @Override
  public void record(ObservedEvent event) {
    Connection connection = DataSourceUtils.getConnection(dataSource);
    try {
      outbox.record(connection, event);
    } catch (SQLException e) {
      throw new IllegalStateException("[observer] could not record " + event.name() + " in the outbox table "
          + outbox.table() + " (the transaction should roll back): " + e.getMessage(), e);
    } finally {
      DataSourceUtils.releaseConnection(connection, dataSource);
    }
  }
}
