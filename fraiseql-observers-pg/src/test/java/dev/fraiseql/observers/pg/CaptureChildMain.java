package dev.fraiseql.observers.pg;

import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.pg.internal.PgDatabase;
import dev.fraiseql.observers.pg.internal.PgUrl;
import java.time.Duration;
import java.util.Map;

/**
 * A host process for {@link CaptureKillIT}: an engine whose seed-001 webhook handler posts to the
 * test's receiver, and a capture relay, until it is killed with SIGKILL. Args: jdbc url (its
 * search_path the test's schema), webhook url, lease ms.
 */
public final class CaptureChildMain {
  private CaptureChildMain() {}

  public static void main(String[] args) throws Exception {
    PgDatabase db = PgDatabase.fromUrl(PgUrl.parse(args[0]), 4);
    ObserverEngine engine = ObserverEngine.builder().config(CaptureKillIT.TOML, "fraiseql.toml")
        .env(Map.of("WELCOME_EMAIL_WEBHOOK_URL", args[1])).build();
    PgOutboxRelay.builder(engine, db.dataSource()).batchSize(2).maxInFlight(2).dispatchThreads(1)
        .lease(Duration.ofMillis(Long.parseLong(args[2]))).pollInterval(Duration.ofMillis(200)).start();
    System.out.println("child relay started");
    Thread.sleep(Long.MAX_VALUE);
  }
}
