package dev.fraiseql.observers;

import dev.fraiseql.observers.spi.Action;
import dev.fraiseql.observers.spi.ActionContext;
import dev.fraiseql.observers.spi.ActionProvider;
import dev.fraiseql.observers.spi.ActionResult;
import dev.fraiseql.observers.spi.Delivery;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.function.Function;

/**
 * {@code action = "scripted"} for tests: each handler answers from a script of results (the last
 * one repeats), or from a function, and records every delivery it saw.
 */
final class ScriptedActions implements ActionProvider {
  final Map<String, ConcurrentLinkedDeque<Function<Delivery, CompletionStage<ActionResult>>>> scripts = new ConcurrentHashMap<>();
  final Map<String, List<Delivery>> seen = new ConcurrentHashMap<>();

  ScriptedActions script(String handler, ActionResult... results) {
    ConcurrentLinkedDeque<Function<Delivery, CompletionStage<ActionResult>>> q = new ConcurrentLinkedDeque<>();
    for (ActionResult r : results) {
      q.add(d -> CompletableFuture.completedFuture(r));
    }
    scripts.put(handler, q);
    return this;
  }

  ScriptedActions behave(String handler, Function<Delivery, CompletionStage<ActionResult>> f) {
    ConcurrentLinkedDeque<Function<Delivery, CompletionStage<ActionResult>>> q = new ConcurrentLinkedDeque<>();
    q.add(f);
    scripts.put(handler, q);
    return this;
  }

  List<Delivery> seen(String handler) {
    return seen.getOrDefault(handler, List.of());
  }

  List<Integer> attempts(String handler) {
    return seen(handler).stream().map(Delivery::attempt).toList();
  }

  @Override
  public String name() {
    return "scripted";
  }

  @Override
  public Set<String> settingKeys() {
    return Set.of("label");
  }

  @Override
  public Action create(ActionContext context) {
    String handler = context.handlerName();
    return new Action() {
      @Override
      public CompletionStage<ActionResult> execute(Delivery delivery) {
        seen.computeIfAbsent(handler, k -> Collections.synchronizedList(new ArrayList<>())).add(delivery);
        ConcurrentLinkedDeque<Function<Delivery, CompletionStage<ActionResult>>> q = scripts.get(handler);
        if (q == null || q.isEmpty()) {
          return CompletableFuture.completedFuture(ActionResult.delivered("status=200"));
        }
        Function<Delivery, CompletionStage<ActionResult>> next = q.size() > 1 ? q.poll() : q.peek();
        return next.apply(delivery);
      }

      @Override
      public String describe() {
        return "scripted action";
      }
    };
  }
}
