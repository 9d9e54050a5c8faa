package dev.fraiseql.observers.spring.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.Operation;
import jakarta.servlet.FilterChain;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.security.authentication.TestingAuthenticationToken;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.oauth2.core.ClaimAccessor;

/** {@code fraiseql.observers.web.tenant-claim}: the tenant header wins, else the principal's claim. */
class TenantClaimTest {

  private static ObservedEvent order(int id) {
    return ObservedEvent.builder().operation(Operation.INSERT).table("tb_order").newRow(Map.of("id", id)).build();
  }

  /** A request through the filter, authenticated as a JWT-like principal (as Spring Security's chain would). */
  private static void request(ObserverRequestFilter filter, String tenantHeader, Runnable body) throws Exception {
    MockHttpServletRequest req = new MockHttpServletRequest("POST", "/orders");
    if (tenantHeader != null) {
      req.addHeader("X-Tenant-Id", tenantHeader);
    }
    ClaimAccessor jwt = () -> Map.of("sub", "u-1", "tenant_id", "acme");
    FilterChain chain = (rq, rs) -> {
      SecurityContextHolder.getContext().setAuthentication(new TestingAuthenticationToken(jwt, null, "ROLE_USER"));
      try {
        body.run();
      } finally {
        SecurityContextHolder.clearContext();
      }
    };
    filter.doFilter(req, new MockHttpServletResponse(), chain);
  }

  @Test
  void theTenantComesFromTheHeaderElseFromThePrincipalsClaim() throws Exception {
    List<ObservedEvent> seen = new CopyOnWriteArrayList<>();
    try (ObserverEngine engine = ObserverEngine.builder().configToml("""
        [[observers.handlers]]
        name = "rec"
        event = "order.created"
        action = "handler"
        handler = "rec"
        """).handler("rec", seen::add).build()) {
      TransactionalObserverPublisher publisher = new TransactionalObserverPublisher(engine, Optional.empty());
      ObserverRequestFilter withClaim = new ObserverRequestFilter("X-Tenant-Id", "X-Request-Id", false, "tenant_id");
      ObserverRequestFilter withoutClaim = new ObserverRequestFilter("X-Tenant-Id", "X-Request-Id", false);
      ObserverRequestFilter missingClaim = new ObserverRequestFilter("X-Tenant-Id", "X-Request-Id", false, "org");

      request(withClaim, null, () -> publisher.publish(order(1)));
      request(withClaim, "beta", () -> publisher.publish(order(2)));
      request(withoutClaim, null, () -> publisher.publish(order(3)));
      request(missingClaim, null, () -> publisher.publish(order(4)));

      await().atMost(Duration.ofSeconds(5)).until(() -> seen.size() == 4);
      List<ObservedEvent> byId = seen.stream()
          .sorted(Comparator.comparingInt(e -> ((Number) e.newRow().orElseThrow().get("id")).intValue())).toList();
      assertThat(byId.get(0).context().tenantId()).contains("acme");
      assertThat(byId.get(1).context().tenantId()).contains("beta");
      assertThat(byId.get(2).context().tenantId()).isEmpty();
      assertThat(byId.get(3).context().tenantId()).isEmpty();
      assertThat(byId).allSatisfy(e -> assertThat(e.context().requestId()).isPresent());
    }
  }
}
