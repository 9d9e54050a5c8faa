package dev.fraiseql.observers.internal.engine;

import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverListener;
import dev.fraiseql.observers.spi.ActionResult;
import dev.fraiseql.observers.spi.AttemptTrace;
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
  /** The only listener, when there is exactly one (the common case: called directly, no lambda per call). */
  private final ObserverListener one;
  /** The first listener that is also an {@link AttemptTrace}, or null. */
  final AttemptTrace trace;

  Listeners(List<ObserverListener> all) {
    this.all = List.copyOf(all);
    this.one = this.all.size() == 1 ? this.all.get(0) : null;
    this.trace = (AttemptTrace) this.all.stream().filter(l -> l instanceof AttemptTrace).findFirst().orElse(null);
  }

  private void failed(ObserverListener l, RuntimeException e) {
    LOG.warn("[observer] listener {} threw; ignored", l.getClass().getName(), e);
  }

  private void each(Consumer<ObserverListener> call) {
    for (ObserverListener l : all) {
      try {
        call.accept(l);
      } catch (RuntimeException e) {
        failed(l, e);
      }
    }
  }

  boolean isEmpty() {
    return all.isEmpty();
  }

  @Override
  public void matched(ObservedEvent event, List<String> handlers) {
    ObserverListener l1 = one;
    if (l1 != null) {
      try {
        l1.matched(event, handlers);
      } catch (RuntimeException e) {
        failed(l1, e);
      }
      return;
    }
    if (!all.isEmpty()) {
      each(l -> l.matched(event, handlers));
    }
  }

  @Override
  public void attemptStarted(ObservedEvent event, String handler, int attempt) {
    ObserverListener l1 = one;
    if (l1 != null) {
      try {
        l1.attemptStarted(event, handler, attempt);
      } catch (RuntimeException e) {
        failed(l1, e);
      }
      return;
    }
    if (!all.isEmpty()) {
      each(l -> l.attemptStarted(event, handler, attempt));
    }
  }

  @Override
  public void attemptFinished(ObservedEvent event, String handler, int attempt, ActionResult result, Duration elapsed) {
    ObserverListener l1 = one;
    if (l1 != null) {
      try {
        l1.attemptFinished(event, handler, attempt, result, elapsed);
      } catch (RuntimeException e) {
        failed(l1, e);
      }
      return;
    }
    if (!all.isEmpty()) {
      each(l -> l.attemptFinished(event, handler, attempt, result, elapsed));
    }
  }

  @Override
  public void attemptQueued(ObservedEvent event, String handler, int attempt) {
    if (!all.isEmpty()) {
      each(l -> l.attemptQueued(event, handler, attempt));
    }
  }

  @Override
  public void attemptDequeued(ObservedEvent event, String handler, int attempt, Duration waited, boolean abandoned) {
    if (!all.isEmpty()) {
      each(l -> l.attemptDequeued(event, handler, attempt, waited, abandoned));
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
    ObserverListener l1 = one;
    if (l1 != null) {
      try {
        l1.completed(event, outcome);
      } catch (RuntimeException e) {
        failed(l1, e);
      }
      return;
    }
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
