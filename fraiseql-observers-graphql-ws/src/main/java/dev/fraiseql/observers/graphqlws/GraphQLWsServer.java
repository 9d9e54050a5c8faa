package dev.fraiseql.observers.graphqlws;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.websocket.server.ServerEndpointConfig;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.ee10.websocket.jakarta.server.config.JakartaWebSocketServletContainerInitializer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * A standalone Jetty 12 server for a {@link GraphQLWs} endpoint (and, optionally, a few static pages):
 *
 * <pre>{@code
 * try (GraphQLWsServer server = GraphQLWsServer.builder(ws).port(8080).path("/graphql").start()) {
 *   System.out.println("ws://localhost:" + server.port() + "/graphql");
 * }
 * }</pre>
 *
 * In a servlet container or Spring application, mount {@link GraphQLWs#endpointConfig(String)} in the
 * container's {@code ServerContainer} instead.
 */
public final class GraphQLWsServer implements AutoCloseable {
  private final Server server;
  private final ServerConnector connector;
  private final String path;

  private GraphQLWsServer(Server server, ServerConnector connector, String path) {
    this.server = server;
    this.connector = connector;
    this.path = path;
  }

  public static Builder builder(GraphQLWs ws) {
    return new Builder(ws);
  }

  /** The port it listens on (the chosen one when built with port 0). */
  public int port() {
    return connector.getLocalPort();
  }

  /** {@code ws://host:port/path}. */
  public URI uri() {
    String host = connector.getHost() == null ? "localhost" : connector.getHost();
    return URI.create("ws://" + host + ":" + port() + path);
  }

  /** Stops the server (open sockets are closed by Jetty). */
  @Override
  public void close() {
    try {
      server.stop();
    } catch (Exception e) {
      throw new IllegalStateException("cannot stop the graphql-ws server: " + e, e);
    }
  }

  /** Builds and starts a {@link GraphQLWsServer}. */
  public static final class Builder {
    private final GraphQLWs ws;
    private String host = "127.0.0.1";
    private int port = 8080;
    private String path = "/graphql";
    private final Map<String, Page> pages = new LinkedHashMap<>();
    private final List<ServerEndpointConfig> endpoints = new ArrayList<>();

    private Builder(GraphQLWs ws) {
      this.ws = Objects.requireNonNull(ws, "ws");
    }

    /** The interface to bind (127.0.0.1 by default; "0.0.0.0" for all). */
    public Builder host(String host) {
      this.host = Objects.requireNonNull(host, "host");
      return this;
    }

    /** The port (8080 by default; 0 picks a free one). */
    public Builder port(int port) {
      this.port = port;
      return this;
    }

    /** The endpoint's path ({@code /graphql} by default). */
    public Builder path(String path) {
      if (!path.startsWith("/")) {
        throw new IllegalArgumentException("path must start with /: " + path);
      }
      this.path = path;
      return this;
    }

    /** Serves {@code html} at {@code urlPath} (an example page, say). */
    public Builder page(String urlPath, String html) {
      return file(urlPath, "text/html; charset=utf-8", html.getBytes(StandardCharsets.UTF_8));
    }

    /** Serves {@code content} at {@code urlPath} with this content type (a script the page loads, say). */
    public Builder file(String urlPath, String contentType, byte[] content) {
      pages.put(Objects.requireNonNull(urlPath, "urlPath"), new Page(Objects.requireNonNull(contentType, "contentType"),
          content.clone()));
      return this;
    }

    /** Another jakarta.websocket endpoint on the same server (tests and benchmarks). */
    public Builder endpoint(ServerEndpointConfig config) {
      endpoints.add(Objects.requireNonNull(config, "config"));
      return this;
    }

    /** @throws IllegalStateException when the server cannot start (port taken ...) */
    public GraphQLWsServer start() {
      Server server = new Server();
      ServerConnector connector = new ServerConnector(server);
      connector.setHost(host);
      connector.setPort(port);
      server.addConnector(connector);
      ServletContextHandler context = new ServletContextHandler();
      context.setContextPath("/");
      pages.forEach((p, page) -> context.addServlet(new ServletHolder(page), p));
      JakartaWebSocketServletContainerInitializer.configure(context, (servletContext, container) -> {
        container.addEndpoint(ws.endpointConfig(path));
        for (ServerEndpointConfig c : endpoints) {
          container.addEndpoint(c);
        }
      });
      server.setHandler(context);
      try {
        server.start();
      } catch (Exception e) {
        try {
          server.stop();
        } catch (Exception ignored) {
          // already failing
        }
        throw new IllegalStateException("cannot start the graphql-ws server on " + host + ":" + port + ": " + e, e);
      }
      return new GraphQLWsServer(server, connector, path);
    }
  }

  private static final class Page extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private final String contentType;
    private final transient byte[] content;

    Page(String contentType, byte[] content) {
      this.contentType = contentType;
      this.content = content;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
      resp.setContentType(contentType);
      resp.getOutputStream().write(content);
    }
  }
}
