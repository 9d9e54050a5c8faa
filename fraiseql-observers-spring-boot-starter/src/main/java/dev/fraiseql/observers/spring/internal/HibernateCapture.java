package dev.fraiseql.observers.spring.internal;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.spring.ObserverEventPublisher;
import java.time.temporal.TemporalAccessor;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.Map;
import org.hibernate.engine.spi.SharedSessionContractImplementor;
import org.hibernate.event.spi.PostDeleteEvent;
import org.hibernate.event.spi.PostDeleteEventListener;
import org.hibernate.event.spi.PostInsertEvent;
import org.hibernate.event.spi.PostInsertEventListener;
import org.hibernate.event.spi.PostUpdateEvent;
import org.hibernate.event.spi.PostUpdateEventListener;
import org.hibernate.persister.entity.AbstractEntityPersister;
import org.hibernate.persister.entity.EntityPersister;
import org.hibernate.type.ComponentType;
import org.hibernate.type.EntityType;
import org.hibernate.type.Type;

/**
 * Turns Hibernate's post-insert/update/delete events into observer events: the table from the entity's
 * mapping (without schema or quotes), new and old state as column → value maps (the id column first;
 * an association as its foreign key value; collections left out), handed to the publisher, which holds
 * them until the transaction commits.
 */
public final class HibernateCapture implements PostInsertEventListener, PostUpdateEventListener, PostDeleteEventListener {
  private final ObserverEventPublisher publisher;

  public HibernateCapture(ObserverEventPublisher publisher) {
    this.publisher = publisher;
  }

  @Override
  public void onPostInsert(PostInsertEvent event) {
    EntityPersister p = event.getPersister();
    publisher.publish(ObservedEvent.builder().operation(Operation.INSERT).table(table(p))
        .newRow(row(p, event.getId(), event.getState(), event.getSession())).build());
  }

  @Override
  public void onPostUpdate(PostUpdateEvent event) {
    EntityPersister p = event.getPersister();
    ObservedEvent.Builder b = ObservedEvent.builder().operation(Operation.UPDATE).table(table(p))
        .newRow(row(p, event.getId(), event.getState(), event.getSession()));
    if (event.getOldState() != null) {
      b.oldRow(row(p, event.getId(), event.getOldState(), event.getSession()));
    }
    publisher.publish(b.build());
  }

  @Override
  public void onPostDelete(PostDeleteEvent event) {
    EntityPersister p = event.getPersister();
    publisher.publish(ObservedEvent.builder().operation(Operation.DELETE).table(table(p))
        .oldRow(row(p, event.getId(), event.getDeletedState(), event.getSession())).build());
  }

  @Override
  public boolean requiresPostCommitHandling(EntityPersister persister) {
    return false;
  }

  static String table(EntityPersister persister) {
    String name = persister instanceof AbstractEntityPersister a ? a.getTableName() : persister.getEntityName();
    int dot = name.lastIndexOf('.');
    if (dot >= 0) {
      name = name.substring(dot + 1);
    }
    return name.replace("\"", "").replace("`", "").replace("[", "").replace("]", "");
  }

  private static Map<String, Object> row(EntityPersister p, Object id, Object[] state,
      SharedSessionContractImplementor session) {
    Map<String, Object> row = new LinkedHashMap<>();
    AbstractEntityPersister a = p instanceof AbstractEntityPersister ap ? ap : null;
    String[] idColumns = a != null ? a.getIdentifierColumnNames() : new String[] {"id"};
    if (idColumns.length == 1) {
      row.put(column(idColumns[0]), json(id));
    }
    if (state == null) {
      return row;
    }
    String[] names = p.getPropertyNames();
    Type[] types = p.getPropertyTypes();
    for (int i = 0; i < names.length && i < state.length; i++) {
      Type type = types[i];
      if (type.isCollectionType()) {
        continue;
      }
      String[] columns = a != null ? a.getPropertyColumnNames(i) : new String[] {names[i]};
      Object value = state[i];
      if (type instanceof EntityType entityType) {
        Object fk = value == null ? null : foreignKey(entityType, value, session);
        if (columns.length == 1) {
          row.put(column(columns[0]), json(fk));
        }
      } else if (type instanceof ComponentType component) {
        Object[] parts = value == null ? new Object[columns.length] : component.getPropertyValues(value);
        if (parts.length == columns.length) {
          for (int c = 0; c < columns.length; c++) {
            row.put(column(columns[c]), json(parts[c]));
          }
        }
      } else if (columns.length == 1) {
        row.put(column(columns[0]), json(value));
      }
    }
    return row;
  }

  private static Object foreignKey(EntityType type, Object value, SharedSessionContractImplementor session) {
    return session.getFactory().getMappingMetamodel().getEntityDescriptor(type.getAssociatedEntityName())
        .getIdentifier(value, session);
  }

  private static String column(String name) {
    return name.replace("\"", "").replace("`", "");
  }

  /** Values as JSON-friendly scalars: times and UUIDs as ISO strings, enums by name, bytes as Base64. */
  private static Object json(Object value) {
    if (value == null || value instanceof String || value instanceof Number || value instanceof Boolean) {
      return value;
    }
    if (value instanceof Enum<?> e) {
      return e.name();
    }
    if (value instanceof byte[] bytes) {
      return Base64.getEncoder().encodeToString(bytes);
    }
    if (value instanceof Date d) {
      return d.toInstant().toString();
    }
    if (value instanceof TemporalAccessor || value instanceof java.util.UUID) {
      return value.toString();
    }
    return value.toString();
  }
}
