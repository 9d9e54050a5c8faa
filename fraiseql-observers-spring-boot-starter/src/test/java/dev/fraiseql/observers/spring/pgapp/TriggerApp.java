package dev.fraiseql.observers.spring.pgapp;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.List;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.security.authentication.UsernamePasswordAuthenticationToken;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * BlogApp's user API, for trigger capture: its services write rows and publish nothing; a stand-in
 * for Spring Security's authentication puts the {@code X-Test-User} header's user in the
 * {@code SecurityContextHolder}, as Security's filter chain would.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
@Import({BlogApp.Users.class, BlogApp.UserController.class, BlogApp.Recorder.class})
public class TriggerApp {
  @Bean
  OncePerRequestFilter testAuthentication() {
    return new OncePerRequestFilter() {
      @Override
      protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
          throws ServletException, IOException {
        String user = request.getHeader("X-Test-User");
        if (user != null) {
          SecurityContextHolder.getContext().setAuthentication(
              UsernamePasswordAuthenticationToken.authenticated(user, "n/a", List.of()));
        }
        try {
          chain.doFilter(request, response);
        } finally {
          SecurityContextHolder.clearContext();
        }
      }
    };
  }
}
