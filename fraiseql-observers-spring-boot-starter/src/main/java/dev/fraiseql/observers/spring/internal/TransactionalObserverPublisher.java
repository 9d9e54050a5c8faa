package dev.fraiseql.observers.spring.internal;

import dev.fraiseql.observers.Dispatch;
import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.spring.ObserverEventPublisher;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.event.EventListener;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.util.ClassUtils;

/**
 * Holds events published inside a Spring transaction until it commits (or writes them to the outbox
 * on its connection), drops them on rollback, and dispatches events published outside a transaction
 * at once. Fills an event's empty context from the current web request and Spring Security.
 */
public final class TransactionalObserverPublisher implements ObserverEventPublisher {
  private static final Logger LOG = LoggerFactory.getLogger(TransactionalObserverPublisher.class);
  private static final boolean SECURITY = ClassUtils.isPresent(
      "org.springframework.security.core.context.SecurityContextHolder",
      TransactionalObserverPublisher.class.getClassLoader());

  private final ObserverEngine engine;
  private final Optional<OutboxWriter> outbox;
  private final List<ContextDecorator> decorators;

  public TransactionalObserverPublisher(ObserverEngine engine, Optional<OutboxWriter> outbox) {
    this(engine, outbox, List.of());
  }

  public TransactionalObserverPublisher(ObserverEngine engine, Optional<OutboxWriter> outbox,
      List<ContextDecorator> decorators) {
    this.engine = engine;
    this.outbox = outbox;
    this.decorators = List.copyOf(decorators);
  }

  /** Spring's {@code ApplicationEventPublisher.publishEvent(observedEvent)} arrives here. */
  @EventListener
  public void onApplicationEvent(ObservedEvent event) {
    publish(event);
  }

  @Override
  public void publish(ObservedEvent event) {
    ObservedEvent withContext = withContext(event);
    if (TransactionSynchronizationManager.isSynchronizationActive()
        && TransactionSynchronizationManager.isActualTransactionActive()) {
      if (outbox.isPresent()) {
        outbox.get().record(withContext);
        return;
      }
      pending().events.add(withContext);
    } else {
      dispatch(List.of(withContext));
    }
  }

  private void dispatch(List<ObservedEvent> events) {
    List<Dispatch> made = engine.onCommit(events);
    RequestState.current().ifPresent(state -> state.add(made));
  }

  private Pending pending() {
    Pending pending = (Pending) TransactionSynchronizationManager.getResource(this);
    if (pending == null) {
      pending = new Pending();
      TransactionSynchronizationManager.bindResource(this, pending);
      TransactionSynchronizationManager.registerSynchronization(pending);
    }
    return pending;
  }

  /** {@code event} with its context completed by {@link #contextFor}. */
  ObservedEvent withContext(ObservedEvent event) {
    MutationContext own = event.context();
    MutationContext context = contextFor(own);
    return context.equals(own) ? event : event.toBuilder().context(context).build();
  }

  /**
   * {@code own} with its empty user, tenant and request id filled from the current web request and
   * Spring Security, then passed through the decorators (the current trace context).
   */
  public MutationContext contextFor(MutationContext own) {
    MutationContext context = withRequestContext(own);
    for (ContextDecorator d : decorators) {
      context = d.decorate(context);
    }
    return context;
  }

  /** {@code own} with its empty user, tenant and request id filled from the current web request and Spring Security. */
  public static MutationContext withRequestContext(MutationContext own) {
    Optional<MutationContext> request = RequestState.current().map(RequestState::context);
    Optional<String> user = own.userId().isPresent() ? Optional.empty() : securityUser();
    if (request.isEmpty() && user.isEmpty()) {
      return own;
    }
    MutationContext.Builder merged = own.toBuilder();
    if (own.userId().isEmpty()) {
      user.or(() -> request.flatMap(MutationContext::userId)).ifPresent(merged::userId);
    }
    if (own.tenantId().isEmpty()) {
      request.flatMap(MutationContext::tenantId)
          .or(() -> SECURITY ? RequestState.current().flatMap(RequestState::tenantClaim).flatMap(SecurityUser::claim)
              : Optional.empty())
          .ifPresent(merged::tenantId);
    }
    if (own.requestId().isEmpty()) {
      request.flatMap(MutationContext::requestId).ifPresent(merged::requestId);
    }
    return merged.build();
  }

  private static Optional<String> securityUser() {
    return SECURITY ? SecurityUser.current() : Optional.empty();
  }

  /** The events of one transaction; bound as a transaction resource under the publisher. */
  private final class Pending implements TransactionSynchronization {
    final List<ObservedEvent> events = new ArrayList<>();

    @Override
    public void suspend() {
      TransactionSynchronizationManager.unbindResource(TransactionalObserverPublisher.this);
    }

    @Override
    public void resume() {
      TransactionSynchronizationManager.bindResource(TransactionalObserverPublisher.this, this);
    }

    @Override
    public void afterCommit() {
      if (!events.isEmpty()) {
        dispatch(List.copyOf(events));
      }
    }

    @Override
    public void afterCompletion(int status) {
      TransactionSynchronizationManager.unbindResourceIfPossible(TransactionalObserverPublisher.this);
      if (status != STATUS_COMMITTED && !events.isEmpty()) {
        LOG.debug("[observer] transaction rolled back: {} event(s) not dispatched", events.size());
      }
      events.clear();
    }
  }
}
