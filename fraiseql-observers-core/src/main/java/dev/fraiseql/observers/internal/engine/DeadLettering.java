package dev.fraiseql.observers.internal.engine;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.internal.Uuid7;
import dev.fraiseql.observers.spi.AttemptRecord;
import dev.fraiseql.observers.spi.DeadLetter;
import java.util.List;

/**
 * The dead-letter stage: builds the letter (the event, the handler, the reason and the history of the
 * attempts that did not deliver), logs it (a WARN line per handler per second, overloads on their own
 * throttle, the rest at DEBUG) and stores it ({@link Runtime#storeDeadLetter}, which falls back to
 * memory if the store fails).
 */
final class DeadLettering {
  private DeadLettering() {}

  static DeadLetter store(Runtime rt, ObservedEvent event, HandlerRuntime handler, String reason,
      List<AttemptRecord> history, boolean overload) {
    DeadLetter letter = new DeadLetter(Uuid7.next().toString(), event, handler.name(), handler.subject(), reason,
        history, rt.clock.instant());
    try (Runtime.MdcScope ignored = Runtime.mdc(event, handler.name())) {
      long heldBack = overload ? rt.overloadLog.admit(System.nanoTime()) : rt.deadLetterLog(handler.name()).admit(System.nanoTime());
      // an ordered handler goes on with the key's next event: say so, since a reader may expect the key to stop
      String ordered = handler.order() == null || overload || rt.aborting ? ""
          : "; ordering = \"key\": the next event of its key proceeds (replaying this letter runs it after them)";
      if (heldBack < 0) {
        rt.log().debug("[observer] {}: dead-lettered event {} ({}){}{}", handler.name(), event.id(), reason, ordered,
            Runtime.req(event));
      } else {
        rt.log().warn("[observer] {}: dead-lettered event {} ({}){}{}{}", handler.name(), event.id(), reason, ordered,
            Runtime.req(event),
            heldBack == 0 ? "" : overload
                ? "; " + heldBack + " more were dead-lettered for overload since the last such line "
                    + "(each is in the dead-letter store; lines per event at DEBUG)"
                : "; " + heldBack + " more of " + handler.name() + " were dead-lettered since the last such line "
                    + "(each is in the dead-letter store; lines per event at DEBUG)");
      }
    }
    rt.storeDeadLetter(letter);
    return letter;
  }
}
