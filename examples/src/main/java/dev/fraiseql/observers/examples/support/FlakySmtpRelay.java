package dev.fraiseql.observers.examples.support;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * A TCP relay in front of a real SMTP server that answers {@code 451} once, itself, to the first
 * {@code RCPT TO} naming {@code flakyRecipient} ("mailbox temporarily unavailable", as a greylisting
 * server would); every other byte goes through unchanged in both directions. The sender sees a
 * transient SMTP failure and must retry. Safe because SMTP without PIPELINING is lock-step: when the
 * client sends RCPT, every earlier reply has reached it.
 */
public final class FlakySmtpRelay implements AutoCloseable {
  /** The reply injected once. */
  public static final String REPLY = "451 4.7.1 Greylisted, please try again later";

  private final ServerSocket server;
  private final String targetHost;
  private final int targetPort;
  private final String flakyRecipient;
  private final Consumer<String> log;
  private final AtomicBoolean injected = new AtomicBoolean();
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();

  /** Starts on a free port of 127.0.0.1, relaying to {@code targetHost:targetPort}. */
  public FlakySmtpRelay(String targetHost, int targetPort, String flakyRecipient, Consumer<String> log)
      throws IOException {
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.targetHost = targetHost;
    this.targetPort = targetPort;
    this.flakyRecipient = flakyRecipient.toLowerCase(Locale.ROOT);
    this.log = log;
    Thread t = new Thread(this::acceptLoop, "flaky-smtp-relay");
    t.setDaemon(true);
    t.start();
  }

  public int port() {
    return server.getLocalPort();
  }

  /** Whether the 451 was given. */
  public boolean injected() {
    return injected.get();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        Socket upstream = new Socket(targetHost, targetPort);
        sockets.add(client);
        sockets.add(upstream);
        OutputStream toClient = client.getOutputStream();
        start(() -> copy(upstream, toClient, client));
        start(() -> relayCommands(client, upstream, toClient));
      } catch (IOException e) {
        if (server.isClosed()) {
          return;
        }
      }
    }
  }

  private static void start(Runnable r) {
    Thread t = new Thread(r, "flaky-smtp-relay-conn");
    t.setDaemon(true);
    t.start();
  }

  private static void copy(Socket from, OutputStream to, Socket other) {
    byte[] buf = new byte[8192];
    try (InputStream in = from.getInputStream()) {
      int n;
      while ((n = in.read(buf)) >= 0) {
        synchronized (to) {
          to.write(buf, 0, n);
          to.flush();
        }
      }
    } catch (IOException e) {
      // a side closed
    } finally {
      closeQuietly(other);
    }
  }

  /** Client to server, line by line (bytes kept as they are), answering the flaky RCPT itself. */
  private void relayCommands(Socket client, Socket upstream, OutputStream toClient) {
    try (InputStream in = new BufferedInputStream(client.getInputStream());
         OutputStream toServer = upstream.getOutputStream()) {
      ByteArrayOutputStream line = new ByteArrayOutputStream();
      int b;
      while ((b = in.read()) >= 0) {
        line.write(b);
        if (b != '\n') {
          continue;
        }
        String text = line.toString(StandardCharsets.UTF_8).strip();
        if (text.toUpperCase(Locale.ROOT).startsWith("RCPT TO:")
            && text.toLowerCase(Locale.ROOT).contains("<" + flakyRecipient + ">")
            && injected.compareAndSet(false, true)) {
          log.accept(text + " → " + REPLY + " (injected once)");
          synchronized (toClient) {
            toClient.write((REPLY + "\r\n").getBytes(StandardCharsets.UTF_8));
            toClient.flush();
          }
        } else {
          line.writeTo(toServer);
          toServer.flush();
        }
        line.reset();
      }
    } catch (IOException e) {
      // a side closed
    } finally {
      closeQuietly(upstream);
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // closing
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket s : sockets) {
      closeQuietly(s);
    }
  }
}
