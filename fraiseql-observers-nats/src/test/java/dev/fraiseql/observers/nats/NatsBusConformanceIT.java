package dev.fraiseql.observers.nats;

import dev.fraiseql.observers.nats.internal.NatsBackend;
import dev.fraiseql.observers.spi.EventBus;
import dev.fraiseql.observers.testkit.EventBusConformance;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;

/** Core's bus conformance kit against nats-server with JetStream (one private stream per run). */
class NatsBusConformanceIT extends EventBusConformance {
  /** The kit runs against the bus this module provides, not a stand-in. */
  @org.junit.jupiter.api.Test
  void theKitRunsAgainstTheNatsBus() throws Exception {
    try (dev.fraiseql.observers.spi.EventBus b = createBus()) {
      org.assertj.core.api.Assertions.assertThat(b.name()).isEqualTo("nats");
    }
  }

  private static final String ID = NatsTestSupport.unique();

  @Override
  protected EventBus createBus() {
    Map<String, Object> s = NatsTestSupport.settingsFor(ID);
    s.put("subjects", List.of(subjectPrefix() + ".>"));
    NatsBackend backend = NatsTestSupport.backend(s);
    return backend.bus();
  }

  @Override
  protected String subjectPrefix() {
    return "conf" + ID;
  }

  @Override
  protected void restartServer() throws Exception {
    try {
      NatsTestSupport.stopServer();
    } finally {
      NatsTestSupport.startServer();
    }
  }

  @AfterAll
  static void deleteStream() {
    NatsTestSupport.deleteStream("S" + ID);
  }
}
