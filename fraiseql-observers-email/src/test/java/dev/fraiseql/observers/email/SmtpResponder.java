package dev.fraiseql.observers.email;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A small but real SMTP server over a {@link ServerSocket}, for the replies GreenMail cannot be made to
 * give (a 451 or 550 on demand, a 421 greeting, no STARTTLS, silence). It speaks enough SMTP for Jakarta
 * Mail: EHLO/HELO, AUTH PLAIN, MAIL, RCPT, DATA (dot-stuffed), RSET, NOOP, QUIT. Replies for a stage
 * ({@code greeting}, {@code MAIL}, {@code RCPT}, {@code DATA}, {@code END} = after the message's final
 * dot) are taken one by one from what the test queued, then default to success. It records every
 * command line and every message body it received, and which of them it accepted.
 */
final class SmtpResponder implements AutoCloseable {
  private final ServerSocket server;
  private final Map<String, Deque<String>> scripted = new HashMap<>();
  private final List<String> commands = new CopyOnWriteArrayList<>();
  private final List<String> received = new CopyOnWriteArrayList<>();
  private final List<String> accepted = new CopyOnWriteArrayList<>();
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private volatile boolean silent;
  private volatile long delayMillis;

  SmtpResponder() throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread t = new Thread(this::acceptLoop, "smtp-responder");
    t.setDaemon(true);
    t.start();
  }

  int port() {
    return server.getLocalPort();
  }

  /** Queues one-shot replies for a stage: greeting, MAIL, RCPT, DATA or END. */
  synchronized SmtpResponder reply(String stage, String... replies) {
    scripted.computeIfAbsent(stage, k -> new ArrayDeque<>()).addAll(List.of(replies));
    return this;
  }

  /** Accept connections but never say anything (for read timeouts). */
  void silent(boolean value) {
    silent = value;
  }

  /** Wait this long before each reply (a slow server). */
  void delay(long millis) {
    delayMillis = millis;
  }

  List<String> commands() {
    return commands;
  }

  /** Every message body received (after DATA), accepted or not. */
  List<String> received() {
    return received;
  }

  /** The message bodies answered with 250. */
  List<String> accepted() {
    return accepted;
  }

  private synchronized String next(String stage, String dflt) {
    Deque<String> q = scripted.get(stage);
    String r = q == null ? null : q.poll();
    return r == null ? dflt : r;
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket s = server.accept();
        sockets.add(s);
        Thread t = new Thread(() -> serve(s), "smtp-responder-conn");
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  private void serve(Socket s) {
    try (s) {
      BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
      OutputStream out = s.getOutputStream();
      if (silent) {
        while (in.read() >= 0) {
          // say nothing
        }
        return;
      }
      String greeting = next("greeting", "220 responder.test ESMTP ready");
      send(out, greeting);
      if (!greeting.startsWith("220")) {
        return;
      }
      String line;
      while ((line = in.readLine()) != null) {
        commands.add(line);
        String upper = line.toUpperCase(java.util.Locale.ROOT);
        if (upper.startsWith("EHLO")) {
          send(out, "250-responder.test\r\n250-AUTH PLAIN\r\n250 8BITMIME");
        } else if (upper.startsWith("HELO")) {
          send(out, "250 responder.test");
        } else if (upper.startsWith("AUTH PLAIN")) {
          if (line.trim().length() <= "AUTH PLAIN".length()) {
            send(out, "334 ");
            commands.add(in.readLine());
          }
          send(out, next("AUTH", "235 2.7.0 Authentication successful"));
        } else if (upper.startsWith("MAIL FROM")) {
          send(out, next("MAIL", "250 2.1.0 OK"));
        } else if (upper.startsWith("RCPT TO")) {
          send(out, next("RCPT", "250 2.1.5 OK"));
        } else if (upper.equals("DATA")) {
          String r = next("DATA", "354 End data with <CR><LF>.<CR><LF>");
          send(out, r);
          if (!r.startsWith("354")) {
            continue;
          }
          StringBuilder body = new StringBuilder();
          String l;
          while ((l = in.readLine()) != null && !l.equals(".")) {
            body.append(l.startsWith("..") ? l.substring(1) : l).append("\r\n");
          }
          received.add(body.toString());
          String end = next("END", "250 2.0.0 OK queued");
          if (end.startsWith("250")) {
            accepted.add(body.toString());
          }
          send(out, end);
        } else if (upper.equals("RSET") || upper.equals("NOOP")) {
          send(out, "250 2.0.0 OK");
        } else if (upper.equals("QUIT")) {
          send(out, "221 2.0.0 Bye");
          return;
        } else {
          send(out, "502 5.5.2 Command not recognized");
        }
      }
    } catch (IOException e) {
      // the client went away
    }
  }

  private void send(OutputStream out, String reply) throws IOException {
    if (delayMillis > 0) {
      try {
        Thread.sleep(delayMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted");
      }
    }
    out.write((reply + "\r\n").getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  /** The value of a header in a received message ({@code Message-ID}), or null. */
  static String header(String message, String name) {
    List<String> lines = new ArrayList<>(List.of(message.split("\r\n")));
    for (String l : lines) {
      if (l.isEmpty()) {
        return null;
      }
      if (l.regionMatches(true, 0, name + ":", 0, name.length() + 1)) {
        return l.substring(name.length() + 1).trim();
      }
    }
    return null;
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket s : sockets) {
      s.close();
    }
  }
}
