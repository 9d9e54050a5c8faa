package dev.fraiseql.observers.internal.engine;

import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverListener;
import dev.fraiseql.observers.spi.ActionResult;
import dev.fraiseql.observers.spi.DeadLetter;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Fans out to the host's listeners; a throwing listener is logged and ignored. */
final class Listeners implements ObserverListener {
  private static final Logger LOG = LoggerFactory.getLogger(Listeners.class);
  private final List<ObserverListener> all;

  Listeners(List<ObserverListener> all) {
    this.all = List.copyOf(all);
  }

  private void each(Consumer<ObserverListener> call) {
    for (ObserverListener l : all) {
      try {
        call.accept(l);
      } catch (RuntimeException e) {
        LOG.warn("[observer] listener {} threw; ignored", l.getClass().getName(), e);
      }
    }
  }

  boolean isEmpty() {
    return all.isEmpty();
  }

  @Override
  public void matched(ObservedEvent event, List<String> handlers) {
    if (!all.isEmpty()) {
      each(l -> l.matched(event, handlers));
    }
  }

  @Override
  public void attemptStarted(ObservedEvent event, String handler, int attempt) {
    if (!all.isEmpty()) {
      each(l -> l.attemptStarted(event, handler, attempt));
    }
  }

  @Override
  public void attemptFinished(ObservedEvent event, String handler, int attempt, ActionResult result, Duration elapsed) {
    if (!all.isEmpty()) {
      each(l -> l.attemptFinished(event, handler, attempt, result, elapsed));
    }
  }

  @Override
  public void retryScheduled(ObservedEvent event, String handler, int nextAttempt, Duration delay) {
    if (!all.isEmpty()) {
      each(l -> l.retryScheduled(event, handler, nextAttempt, delay));
    }
  }

  @Override
  public void deadLettered(DeadLetter letter) {
    if (!all.isEmpty()) {
      each(l -> l.deadLettered(letter));
    }
  }

  @Override
  public void duplicateSkipped(ObservedEvent event, String handler) {
    if (!all.isEmpty()) {
      each(l -> l.duplicateSkipped(event, handler));
    }
  }

  @Override
  public void skipped(ObservedEvent event, String handler) {
    if (!all.isEmpty()) {
      each(l -> l.skipped(event, handler));
    }
  }

  @Override
  public void completed(ObservedEvent event, DeliveryOutcome outcome) {
    if (!all.isEmpty()) {
      each(l -> l.completed(event, outcome));
    }
  }

  @Override
  public void overloaded(ObservedEvent event, String policy) {
    if (!all.isEmpty()) {
      each(l -> l.overloaded(event, policy));
    }
  }
}
