package dev.fraiseql.observers.spring.internal;

import java.util.Optional;
import org.springframework.security.oauth2.core.ClaimAccessor;
import org.springframework.security.oauth2.core.OAuth2AuthenticatedPrincipal;

/** A principal's claim; loaded only when spring-security-oauth2-core is on the classpath. */
final class OAuth2Claims {
  private OAuth2Claims() {}

  static Optional<String> claim(Object principal, String name) {
    Object value = null;
    if (principal instanceof ClaimAccessor claims) {
      value = claims.getClaims().get(name);
    } else if (principal instanceof OAuth2AuthenticatedPrincipal p) {
      value = p.getAttributes().get(name);
    }
    return value == null ? Optional.empty() : Optional.of(value.toString());
  }
}
