package dev.fraiseql.observers.spring.internal;

import jakarta.persistence.EntityManagerFactory;
import org.hibernate.engine.spi.SessionFactoryImplementor;
import org.hibernate.event.service.spi.EventListenerRegistry;
import org.hibernate.event.spi.EventType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Appends {@link HibernateCapture} to the session factory's post-insert/update/delete listeners. */
public final class HibernateCaptureRegistrar {
  private static final Logger LOG = LoggerFactory.getLogger(HibernateCaptureRegistrar.class);

  public HibernateCaptureRegistrar(EntityManagerFactory emf, HibernateCapture capture) {
    SessionFactoryImplementor sf = emf.unwrap(SessionFactoryImplementor.class);
    EventListenerRegistry registry = sf.getServiceRegistry().requireService(EventListenerRegistry.class);
    registry.appendListeners(EventType.POST_INSERT, capture);
    registry.appendListeners(EventType.POST_UPDATE, capture);
    registry.appendListeners(EventType.POST_DELETE, capture);
    LOG.info("[observer] JPA capture on: entity inserts, updates and deletes are dispatched after commit");
  }
}
