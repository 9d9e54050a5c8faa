package dev.fraiseql.observers.spring.internal;

import java.util.Optional;
import org.springframework.security.authentication.AnonymousAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;

/** The current Spring Security principal's name; loaded only when Spring Security is on the classpath. */
final class SecurityUser {
  private SecurityUser() {}

  private static final boolean OAUTH2 = org.springframework.util.ClassUtils.isPresent(
      "org.springframework.security.oauth2.core.ClaimAccessor", SecurityUser.class.getClassLoader());

  /**
   * The authenticated principal's claim {@code name}: a JWT's claim (any {@code ClaimAccessor}) or an
   * OAuth2 principal's attribute, as text; empty when absent, blank, or without spring-security-oauth2-core.
   */
  static Optional<String> claim(String name) {
    Authentication auth = SecurityContextHolder.getContext().getAuthentication();
    if (!OAUTH2 || auth == null || !auth.isAuthenticated() || auth instanceof AnonymousAuthenticationToken) {
      return Optional.empty();
    }
    return OAuth2Claims.claim(auth.getPrincipal(), name).filter(v -> !v.isBlank());
  }

  static Optional<String> current() {
    Authentication auth = SecurityContextHolder.getContext().getAuthentication();
    if (auth == null || !auth.isAuthenticated() || auth instanceof AnonymousAuthenticationToken) {
      return Optional.empty();
    }
    return Optional.ofNullable(auth.getName());
  }
}
