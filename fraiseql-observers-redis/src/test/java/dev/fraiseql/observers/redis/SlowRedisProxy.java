package dev.fraiseql.observers.redis;

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
 * A TCP forwarder to the test Redis that can slow down or hold what clients send: a slow or stalled
 * Redis for one test's connections, without touching the shared server.
 */
final class SlowRedisProxy implements AutoCloseable {
  private final ServerSocket server;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private volatile long delayMillis;
  private volatile boolean held;
  private final Object gate = new Object();

  SlowRedisProxy() throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    URI target = URI.create(RedisTestSupport.url());
    Thread acceptor = new Thread(() -> {
      while (!server.isClosed()) {
        try {
          Socket client = server.accept();
          Socket upstream = new Socket(target.getHost(), target.getPort() < 0 ? 6379 : target.getPort());
          sockets.add(client);
          sockets.add(upstream);
          pump(client.getInputStream(), upstream.getOutputStream(), true);
          pump(upstream.getInputStream(), client.getOutputStream(), false);
        } catch (IOException e) {
          // closed
        }
      }
    }, "slow-redis-proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /** {@code redis://127.0.0.1:<port>} */
  String url() {
    return "redis://127.0.0.1:" + server.getLocalPort();
  }

  /** Every chunk a client sends reaches Redis this much later. */
  void delay(long millis) {
    delayMillis = millis;
  }

  /** From now on nothing a client sends reaches Redis until {@link #release()}. */
  void hold() {
    held = true;
  }

  void release() {
    synchronized (gate) {
      held = false;
      gate.notifyAll();
    }
  }

  private void pump(InputStream in, OutputStream out, boolean toServer) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[16384];
      try {
        for (int n; (n = in.read(buf)) >= 0; ) {
          if (toServer) {
            synchronized (gate) {
              while (held) {
                gate.wait();
              }
            }
            long d = delayMillis;
            if (d > 0) {
              Thread.sleep(d);
            }
          }
          out.write(buf, 0, n);
          out.flush();
        }
      } catch (IOException | InterruptedException e) {
        // closed
      }
    }, "slow-redis-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  @Override
  public void close() throws IOException {
    release();
    server.close();
    for (Socket s : sockets) {
      try {
        s.close();
      } catch (IOException e) {
        // already closed
      }
    }
  }
}
