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

/** The {@link Dispatch} of one event. */
final class DispatchHandle implements Dispatch {
  private final ObservedEvent event;
  private final List<String> matched;
  private final List<HandlerRuntime> handlers;
  private final List<CompletableFuture<DeliveryOutcome>> outcomes;
  private volatile CompletionStage<List<DeliveryOutcome>> completion;

  DispatchHandle(ObservedEvent event, List<String> matched, List<HandlerRuntime> handlers,
      List<CompletableFuture<DeliveryOutcome>> outcomes) {
    this.event = event;
    this.matched = matched;
    this.handlers = handlers;
    this.outcomes = outcomes;
  }

  @Override
  public ObservedEvent event() {
    return event;
  }

  @Override
  public List<String> matched() {
    return matched;
  }

  @Override
  public CompletionStage<List<DeliveryOutcome>> completion() {
    CompletionStage<List<DeliveryOutcome>> c = completion;
    if (c == null) {
      @SuppressWarnings("unchecked")
      CompletableFuture<DeliveryOutcome>[] all = outcomes.toArray(new CompletableFuture[0]);
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
    for (int i = 0; i < handlers.size(); i++) {
      HandlerRuntime h = handlers.get(i);
      if (!h.synchronous()) {
        continue;
      }
      Duration limit = overall != null ? overall : h.synchronousTimeout();
      long remaining = overall != null ? limit.toNanos() - (System.nanoTime() - start) : limit.toNanos();
      try {
        DeliveryOutcome o = outcomes.get(i).get(Math.max(0, remaining), TimeUnit.NANOSECONDS);
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
    return "Dispatch{" + event + " → " + matched + "}";
  }
}
