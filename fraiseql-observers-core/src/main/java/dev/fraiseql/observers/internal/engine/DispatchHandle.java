package dev.fraiseql.observers.internal.engine;

import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.Dispatch;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.SynchronousResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The {@link Dispatch} of one event. Holds the matched handlers and, per handler, either its
 * {@link DeliveryTask} or the outcome it already had (skipped by its condition); names, lists and
 * futures are made only when asked for.
 */
final class DispatchHandle implements Dispatch {
  private static final HandlerRuntime[] NONE = new HandlerRuntime[0];
  private final ObservedEvent event;
  private final HandlerRuntime[] handlers;
  /** Per handler: a DeliveryTask, or a DeliveryOutcome. */
  private final Object[] slots;
  private volatile List<String> matched;
  private volatile CompletionStage<List<DeliveryOutcome>> completion;

  DispatchHandle(ObservedEvent event, HandlerRuntime[] handlers, Object[] slots) {
    this.event = event;
    this.handlers = handlers;
    this.slots = slots;
  }

  /** An event no handler listens to. */
  static DispatchHandle none(ObservedEvent event) {
    return new DispatchHandle(event, NONE, NONE);
  }

  /** The handlers' names, in definition order. */
  static List<String> names(HandlerRuntime[] handlers) {
    String[] names = new String[handlers.length];
    for (int i = 0; i < handlers.length; i++) {
      names[i] = handlers[i].name();
    }
    return List.of(names);
  }

  @Override
  public ObservedEvent event() {
    return event;
  }

  @Override
  public List<String> matched() {
    List<String> m = matched;
    if (m == null) {
      m = names(handlers);
      matched = m;
    }
    return m;
  }

  private CompletableFuture<DeliveryOutcome> outcome(int i) {
    Object s = slots[i];
    return s instanceof DeliveryTask ? ((DeliveryTask) s).outcome() : CompletableFuture.completedFuture((DeliveryOutcome) s);
  }

  @Override
  public CompletionStage<List<DeliveryOutcome>> completion() {
    CompletionStage<List<DeliveryOutcome>> c = completion;
    if (c == null) {
      @SuppressWarnings("unchecked")
      CompletableFuture<DeliveryOutcome>[] all = new CompletableFuture[slots.length];
      for (int i = 0; i < all.length; i++) {
        all[i] = outcome(i);
      }
      c = CompletableFuture.allOf(all).thenApply(v -> Arrays.stream(all).map(CompletableFuture::join).toList())
          .minimalCompletionStage();
      completion = c;
    }
    return c;
  }

  @Override
  public SynchronousResult awaitSynchronous() {
    return await(null);
  }

  @Override
  public SynchronousResult awaitSynchronous(Duration timeout) {
    return await(timeout);
  }

  private SynchronousResult await(Duration overall) {
    List<DeliveryOutcome> done = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    long start = System.nanoTime();
    for (int i = 0; i < handlers.length; i++) {
      HandlerRuntime h = handlers[i];
      if (!h.synchronous()) {
        continue;
      }
      Duration limit = overall != null ? overall : h.synchronousTimeout();
      long remaining = overall != null ? limit.toNanos() - (System.nanoTime() - start) : limit.toNanos();
      try {
        DeliveryOutcome o = outcome(i).get(Math.max(0, remaining), TimeUnit.NANOSECONDS);
        done.add(o);
        if (o.status() == DeliveryOutcome.Status.DEAD_LETTERED) {
          warnings.add(h.name() + ": " + o.detail());
        }
      } catch (TimeoutException e) {
        warnings.add(h.name() + ": timed out after " + limit.toMillis() + "ms (still running)");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        warnings.add(h.name() + ": interrupted while waiting (still running)");
        break;
      } catch (ExecutionException e) {
        warnings.add(h.name() + ": " + e.getCause());
      }
    }
    return new SynchronousResult(done, warnings);
  }

  @Override
  public String toString() {
    return "Dispatch{" + event + " → " + matched() + "}";
  }
}
