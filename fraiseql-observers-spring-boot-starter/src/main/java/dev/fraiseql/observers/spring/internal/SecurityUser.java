package dev.fraiseql.observers.spring.internal;

import java.util.Optional;
import org.springframework.security.authentication.AnonymousAuthenticationToken;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.context.SecurityContextHolder;

/** The current Spring Security principal's name; loaded only when Spring Security is on the classpath. */
final class SecurityUser {
  private SecurityUser() {}

  static Optional<String> current() {
    Authentication auth = SecurityContextHolder.getContext().getAuthentication();
    if (auth == null || !auth.isAuthenticated() || auth instanceof AnonymousAuthenticationToken) {
      return Optional.empty();
    }
    return Optional.ofNullable(auth.getName());
  }
}
