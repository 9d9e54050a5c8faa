package dev.fraiseql.observers.graphqlws.internal;

import jakarta.websocket.CloseReason;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.HandshakeResponse;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.Session;
import jakarta.websocket.server.HandshakeRequest;
import jakarta.websocket.server.ServerEndpointConfig;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The jakarta.websocket endpoint: one instance per socket, delegating to a {@link Connection}. */
public final class WsEndpoint extends Endpoint {
  private static final Logger log = LoggerFactory.getLogger(WsEndpoint.class);
  public static final String SUBPROTOCOL = "graphql-transport-ws";
  private static final String HEADERS = WsEndpoint.class.getName() + ".headers";

  private final Hub hub;
  private Connection conn;

  WsEndpoint(Hub hub) {
    this.hub = hub;
  }

  /** The endpoint's configuration at {@code path}: subprotocol {@code graphql-transport-ws}, one endpoint per socket. */
  public static ServerEndpointConfig config(Hub hub, String path) {
    return ServerEndpointConfig.Builder.create(WsEndpoint.class, path)
        .subprotocols(List.of(SUBPROTOCOL))
        .configurator(new ServerEndpointConfig.Configurator() {
          @Override
          public <T> T getEndpointInstance(Class<T> endpointClass) {
            return endpointClass.cast(new WsEndpoint(hub));
          }

          @Override
          public void modifyHandshake(ServerEndpointConfig sec, HandshakeRequest request, HandshakeResponse response) {
            Map<String, List<String>> h = new TreeMap<>();
            request.getHeaders().forEach((k, v) -> h.put(k.toLowerCase(Locale.ROOT), List.copyOf(v)));
            sec.getUserProperties().put(HEADERS, h);
          }
        })
        .build();
  }

  @Override
  public void onOpen(Session session, EndpointConfig config) {
    @SuppressWarnings("unchecked")
    Map<String, List<String>> headers = (Map<String, List<String>>) config.getUserProperties()
        .remove(HEADERS);
    session.setMaxIdleTimeout(0);
    session.setMaxTextMessageBufferSize(hub.settings().maxMessageBytes());
    conn = hub.open(session, headers == null ? Map.of() : Map.copyOf(headers));
    if (!SUBPROTOCOL.equals(session.getNegotiatedSubprotocol())) {
      conn.close(4406, "Subprotocol not acceptable: use " + SUBPROTOCOL);
      return;
    }
    session.addMessageHandler(String.class, (MessageHandler.Whole<String>) conn::onText);
    session.addMessageHandler(ByteBuffer.class, (MessageHandler.Whole<ByteBuffer>) b ->
        conn.close(4400, "Invalid message received: binary messages are not part of " + SUBPROTOCOL));
  }

  @Override
  public void onClose(Session session, CloseReason closeReason) {
    if (conn != null) {
      conn.closed();
    }
  }

  @Override
  public void onError(Session session, Throwable thr) {
    log.debug("[graphql-ws] socket error: {}", thr.toString());
    if (conn != null) {
      if (thr instanceof jakarta.websocket.DecodeException || String.valueOf(thr).contains("MessageTooLarge")) {
        conn.close(4400, "Invalid message received: too large");
      } else {
        conn.closed();
      }
    }
  }
}
