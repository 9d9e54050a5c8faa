package dev.fraiseql.observers.nats;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP forwarder to the real test server that refuses connections until {@link #open()}: a NATS
 * server that is unreachable when the backend starts and becomes reachable later, without stopping
 * the shared server.
 */
final class GatedProxy implements AutoCloseable {
  private final int port;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private volatile ServerSocket server;

  GatedProxy() throws IOException {
    try (ServerSocket probe = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
  }

  String url() {
    return "nats://127.0.0.1:" + port;
  }

  /** From now on connections are accepted and piped to the test server. */
  void open() throws IOException {
    ServerSocket s = new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
    server = s;
    URI target = URI.create(NatsTestSupport.URL.split(",")[0]);
    Thread acceptor = new Thread(() -> {
      while (!s.isClosed()) {
        try {
          Socket client = s.accept();
          Socket upstream = new Socket(target.getHost(), target.getPort() < 0 ? 4222 : target.getPort());
          sockets.add(client);
          sockets.add(upstream);
          pump(client.getInputStream(), upstream.getOutputStream());
          pump(upstream.getInputStream(), client.getOutputStream());
        } catch (IOException e) {
          // closed
        }
      }
    }, "gated-proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  private static void pump(InputStream in, OutputStream out) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[16384];
      try {
        for (int n; (n = in.read(buf)) >= 0; ) {
          out.write(buf, 0, n);
          out.flush();
        }
      } catch (IOException e) {
        // one side closed
      } finally {
        try {
          out.close();
        } catch (IOException ignored) {
          // already closed
        }
      }
    }, "gated-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  @Override
  public void close() throws IOException {
    ServerSocket s = server;
    if (s != null) {
      s.close();
    }
    for (Socket socket : sockets) {
      socket.close();
    }
  }
}
