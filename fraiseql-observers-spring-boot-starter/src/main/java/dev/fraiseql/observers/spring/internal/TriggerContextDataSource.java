package dev.fraiseql.observers.spring.internal;

import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.pg.PgMutationContext;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * The application's {@link DataSource}, whose connections set the current mutation context (the web
 * request's user, tenant and request id, the trace parent) as the transaction's {@code fraiseql.*}
 * settings when a transaction begins on them ({@code setAutoCommit(false)}, which Spring's
 * {@code DataSourceTransactionManager} and Hibernate both call), with
 * {@link PgMutationContext#set(Connection, MutationContext)}: one round trip, only when there is a
 * context. PostgreSQL's capture triggers then put it into every event of the transaction. The
 * settings are transaction-local: nothing is carried over to the next user of a pooled connection.
 */
public final class TriggerContextDataSource extends DelegatingDataSource {
  private final Supplier<MutationContext> context;

  /** @param context the context of the current thread; empty fields are left out */
  public TriggerContextDataSource(DataSource target, Supplier<MutationContext> context) {
    super(target);
    this.context = context;
  }

  @Override
  public Connection getConnection() throws SQLException {
    return wrap(obtainTargetDataSource().getConnection());
  }

  @Override
  public Connection getConnection(String username, String password) throws SQLException {
    return wrap(obtainTargetDataSource().getConnection(username, password));
  }

  private Connection wrap(Connection target) {
    return (Connection) Proxy.newProxyInstance(TriggerContextDataSource.class.getClassLoader(),
        new Class<?>[] {Connection.class}, new Handler(target));
  }

  @Override
  public String toString() {
    return "TriggerContextDataSource{" + obtainTargetDataSource() + "}";
  }

  private final class Handler implements InvocationHandler {
    private final Connection target;

    Handler(Connection target) {
      this.target = target;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
      switch (method.getName()) {
        case "equals":
          return proxy == args[0];
        case "hashCode":
          return System.identityHashCode(proxy);
        case "toString":
          return "TriggerContextConnection{" + target + "}";
        case "unwrap":
          if (((Class<?>) args[0]).isInstance(proxy)) {
            return proxy;
          }
          break;
        case "isWrapperFor":
          if (((Class<?>) args[0]).isInstance(proxy)) {
            return true;
          }
          break;
        default:
          break;
      }
      Object result;
      try {
        result = method.invoke(target, args);
      } catch (InvocationTargetException e) {
        throw e.getTargetException();
      }
      if ("setAutoCommit".equals(method.getName()) && Boolean.FALSE.equals(args[0])) {
        MutationContext c = context.get();
        if (c != null && !c.equals(MutationContext.empty())) {
          PgMutationContext.set(target, c);
        }
      }
      return result;
    }
  }
}
