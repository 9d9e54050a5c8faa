package dev.fraiseql.observers.spring.internal;

import dev.fraiseql.observers.Dispatch;
import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObserverWarnings;
import dev.fraiseql.observers.SynchronousResult;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.UUID;
import org.springframework.core.Ordered;
import org.springframework.web.filter.OncePerRequestFilter;
import org.springframework.web.util.WebUtils;
import org.springframework.web.util.ContentCachingResponseWrapper;

/**
 * Binds each request's {@link MutationContext} (request id from the request-id header or generated,
 * tenant from the tenant header; the user is read from Spring Security when an event is published) and,
 * when the configuration has synchronous handlers, holds the response body until they have run so a
 * failure can add {@code X-FraiseQL-Observer-Warning}.
 */
public final class ObserverRequestFilter extends OncePerRequestFilter implements Ordered {
  /** Before Spring Security's filter chain (-100), so the whole request runs inside the context. */
  public static final int ORDER = Ordered.HIGHEST_PRECEDENCE + 50;
  private static final String STATE_ATTRIBUTE = ObserverRequestFilter.class.getName() + ".STATE";

  private final String tenantHeader;
  private final String requestIdHeader;
  private final boolean awaitSynchronous;
  private final String tenantClaim;

  public ObserverRequestFilter(String tenantHeader, String requestIdHeader, boolean awaitSynchronous) {
    this(tenantHeader, requestIdHeader, awaitSynchronous, null);
  }

  /** @param tenantClaim the principal's claim the tenant comes from when the header is absent, or null */
  public ObserverRequestFilter(String tenantHeader, String requestIdHeader, boolean awaitSynchronous,
      String tenantClaim) {
    this.tenantHeader = tenantHeader;
    this.requestIdHeader = requestIdHeader;
    this.awaitSynchronous = awaitSynchronous;
    this.tenantClaim = tenantClaim == null || tenantClaim.isBlank() ? null : tenantClaim.trim();
  }

  @Override
  public int getOrder() {
    return ORDER;
  }

  @Override
  protected boolean shouldNotFilterAsyncDispatch() {
    return false;
  }

  @Override
  protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws ServletException, IOException {
    if (isAsyncDispatch(request)) {
      asyncDispatch(request, response, chain);
      return;
    }
    String requestId = request.getHeader(requestIdHeader);
    if (requestId == null || requestId.isBlank()) {
      requestId = UUID.randomUUID().toString();
    }
    MutationContext.Builder context = MutationContext.builder().requestId(requestId);
    String tenant = request.getHeader(tenantHeader);
    if (tenant != null && !tenant.isBlank()) {
      context.tenantId(tenant);
    }
    RequestState state = new RequestState(context.build(), awaitSynchronous, tenantClaim);
    RequestState.bind(state);
    request.setAttribute(STATE_ATTRIBUTE, state);
    if (!awaitSynchronous) {
      try {
        chain.doFilter(request, response);
      } finally {
        RequestState.clear();
      }
      return;
    }
    ContentCachingResponseWrapper wrapper = new ContentCachingResponseWrapper(response);
    try {
      chain.doFilter(request, wrapper);
    } finally {
      RequestState.clear();
      if (!isAsyncStarted(request)) {
        finish(state, wrapper);
      }
    }
  }

  /**
   * The async dispatch of a request that went async (Callable, DeferredResult): the body it writes goes
   * to the wrapper made on the first dispatch, which is copied to the response here, when it is done.
   */
  private void asyncDispatch(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
      throws ServletException, IOException {
    Object state = request.getAttribute(STATE_ATTRIBUTE);
    ContentCachingResponseWrapper wrapper = WebUtils.getNativeResponse(response, ContentCachingResponseWrapper.class);
    if (state instanceof RequestState s) {
      RequestState.bind(s);
    }
    try {
      chain.doFilter(request, response);
    } finally {
      RequestState.clear();
      if (wrapper != null && !isAsyncStarted(request)) {
        finish(state instanceof RequestState s ? s : null, wrapper);
      }
    }
  }

  private static void finish(RequestState state, ContentCachingResponseWrapper wrapper) throws IOException {
    try {
      if (state != null) {
        for (Dispatch dispatch : state.dispatches()) {
          SynchronousResult result = dispatch.awaitSynchronous();
          ObserverWarnings.applyTo(result, wrapper::addHeader);
        }
      }
    } finally {
      wrapper.copyBodyToResponse();
    }
  }
}
