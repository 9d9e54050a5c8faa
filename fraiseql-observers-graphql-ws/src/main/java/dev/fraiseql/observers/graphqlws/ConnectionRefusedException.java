package dev.fraiseql.observers.graphqlws;

/**
 * Thrown by an {@link Authenticator} to refuse a connection: the socket is closed with
 * {@code 4403: Forbidden} ({@link #forbidden}) or {@code 4401: Unauthorized} ({@link #unauthorized}),
 * the codes of the graphql-ws protocol. The reason is sent to the client (at most 123 bytes): keep
 * secrets out of it.
 */
public final class ConnectionRefusedException extends Exception {
  private static final long serialVersionUID = 1L;
  private final int closeCode;

  private ConnectionRefusedException(int closeCode, String reason) {
    super(reason);
    this.closeCode = closeCode;
  }

  /** Close with 4403 (the credentials were understood and are not allowed). */
  public static ConnectionRefusedException forbidden(String reason) {
    return new ConnectionRefusedException(4403, reason == null ? "Forbidden" : reason);
  }

  /** Close with 4401 (no or unreadable credentials). */
  public static ConnectionRefusedException unauthorized(String reason) {
    return new ConnectionRefusedException(4401, reason == null ? "Unauthorized" : reason);
  }

  /** The WebSocket close code: 4401 or 4403. */
  public int closeCode() {
    return closeCode;
  }
}
