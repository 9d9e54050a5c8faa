package dev.fraiseql.observers.graphqlws;

import dev.fraiseql.observers.MutationContext;
import java.util.Map;

/**
 * Turns a client's {@code connection_init} payload into the {@link MutationContext} its subscriptions
 * run under (seed 000: "same security model"), or refuses the connection.
 *
 * <pre>{@code
 * Authenticator auth = init -> {
 *   Object token = init.payload().get("token");
 *   Claims claims = jwt.verify(token);            // throw ConnectionRefusedException.forbidden(...) when bad
 *   return MutationContext.builder().userId(claims.subject()).tenantId(claims.tenant()).build();
 * };
 * }</pre>
 *
 * <p>A client receives only events whose {@link MutationContext#tenantId() tenant} equals the one
 * returned here (a context without a tenant receives only events without a tenant); the
 * subscription's filter arguments narrow that further and can never widen it. Called once per
 * connection, on a server thread; it may block briefly (a token lookup).
 */
@FunctionalInterface
public interface Authenticator {

  /**
   * @param init what the client sent
   * @return the context of this connection
   * @throws ConnectionRefusedException to close the socket with 4401 or 4403; any other exception
   *     closes it with 4500 and is logged
   */
  MutationContext authenticate(ConnectionInit init) throws ConnectionRefusedException;

  /**
   * Accepts everyone with an empty context (no user, no tenant): such clients receive only events
   * that carry no tenant. For development and single-tenant deployments.
   */
  static Authenticator anonymous() {
    return init -> MutationContext.empty();
  }

  /**
   * A client's {@code connection_init}.
   *
   * @param payload the message's {@code payload} object (empty when absent)
   * @param headers the HTTP headers of the WebSocket upgrade request (names in lower case)
   */
  record ConnectionInit(Map<String, Object> payload, Map<String, java.util.List<String>> headers) {
    /** The payload value as a string, or empty. */
    public java.util.Optional<String> string(String key) {
      Object v = payload.get(key);
      return v instanceof String ? java.util.Optional.of((String) v) : java.util.Optional.empty();
    }
  }
}
