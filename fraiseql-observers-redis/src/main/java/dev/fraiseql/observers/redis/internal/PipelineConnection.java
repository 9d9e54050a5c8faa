package dev.fraiseql.observers.redis.internal;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import redis.clients.jedis.Connection;
import redis.clients.jedis.DefaultJedisSocketFactory;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.exceptions.JedisConnectionException;

/**
 * A connection kept by one publisher thread for pipelining. Jedis opens it (TLS, AUTH, SELECT,
 * CLIENT SETNAME as configured) and parses the replies; the commands of a whole round are encoded
 * by {@link Resp} into one buffer and written to the socket in one call, so a round of a hundred
 * XADDs costs one write instead of one per 8 KiB, and no object per argument. Confined to one thread.
 *
 * <p>Writes go to the socket directly, reads through Jedis: Jedis' own output buffer is empty
 * whenever we write (it only wrote the handshake, and flushed it to read the answers), so the order
 * on the wire is ours. A failed write or read marks the connection broken; it is then closed and
 * replaced, never reused.
 */
final class PipelineConnection implements AutoCloseable {
  private final Connection connection;
  private final OutputStream out;
  /** The commands of the round being encoded. */
  final Resp resp = new Resp();

  PipelineConnection(HostAndPort where, JedisClientConfig config) {
    DefaultJedisSocketFactory sockets = new DefaultJedisSocketFactory(where, config);
    Socket[] opened = new Socket[1];
    this.connection = new Connection(() -> {
      Socket s = sockets.createSocket();
      opened[0] = s;
      return s;
    }, config);
    try {
      this.out = opened[0].getOutputStream();
    } catch (IOException | RuntimeException e) {
      connection.close();
      throw new JedisConnectionException("cannot write to the connection", e);
    }
  }

  /** Writes what {@link #resp} holds and empties it. */
  void write() {
    try {
      out.write(resp.buf, 0, resp.len);
      out.flush();
    } catch (IOException e) {
      connection.setBroken();
      throw new JedisConnectionException(e);
    } finally {
      resp.clear();
    }
  }

  /**
   * The next reply: a byte[], Long, List (of those) or null; an error reply is thrown as a
   * {@link redis.clients.jedis.exceptions.JedisDataException}, a broken connection as a
   * {@link JedisConnectionException}.
   */
  Object read() {
    return connection.getOne();
  }

  boolean usable() {
    return !connection.isBroken() && connection.isConnected();
  }

  @Override
  public void close() {
    connection.close();
  }

  /** RESP encoding into a growable buffer: arrays of bulk strings, nothing else is needed. */
  static final class Resp {
    private static final int INITIAL = 64 * 1024;
    private static final int KEEP = 4 * 1024 * 1024;
    /** {@code $<n>\r\n<i>\r\n} for the small numbers every call carries (counts, indexes). */
    private static final byte[][] SMALL = new byte[1024][];

    static {
      for (int i = 0; i < SMALL.length; i++) {
        String d = Integer.toString(i);
        SMALL[i] = ("$" + d.length() + "\r\n" + d + "\r\n").getBytes(StandardCharsets.US_ASCII);
      }
    }

    byte[] buf = new byte[INITIAL];
    int len;

    /** {@code *<n>}: a command of n arguments (the command's name included) follows. */
    Resp array(int n) {
      ensure(16);
      buf[len++] = '*';
      digits(n);
      crlf();
      return this;
    }

    Resp bulk(byte[] b) {
      ensure(b.length + 16);
      buf[len++] = '$';
      digits(b.length);
      crlf();
      System.arraycopy(b, 0, buf, len, b.length);
      len += b.length;
      crlf();
      return this;
    }

    /** A string as UTF-8, without an intermediate array when it is ASCII (ids, names, numbers). */
    Resp bulk(String s) {
      int n = s.length();
      ensure(n + 16);
      int start = len;
      buf[len++] = '$';
      digits(n);
      crlf();
      for (int i = 0; i < n; i++) {
        char c = s.charAt(i);
        if (c >= 0x80) {
          len = start;
          return bulk(s.getBytes(StandardCharsets.UTF_8));
        }
        buf[len++] = (byte) c;
      }
      crlf();
      return this;
    }

    Resp bulk(long v) {
      if (v >= 0 && v < SMALL.length) {
        byte[] b = SMALL[(int) v];
        ensure(b.length);
        System.arraycopy(b, 0, buf, len, b.length);
        len += b.length;
        return this;
      }
      ensure(48);
      int start = len;
      buf[len++] = '$';
      buf[len++] = '0'; // the length, fixed below
      crlf();
      int from = len;
      if (v < 0) {
        buf[len++] = '-';
        v = -v; // a stream length, window or count: never Long.MIN_VALUE
      }
      digits(v);
      int written = len - from;
      if (written < 10) {
        buf[start + 1] = (byte) ('0' + written);
      } else {
        // rare (numbers of ten digits or more): rewrite with the real length
        byte[] d = Arrays.copyOfRange(buf, from, len);
        len = start;
        return bulk(d);
      }
      crlf();
      return this;
    }

    private void digits(long v) {
      if (v < 10) {
        buf[len++] = (byte) ('0' + v);
        return;
      }
      int n = 1;
      for (long x = v / 10; x > 0; x /= 10) {
        n++;
      }
      for (int i = len + n - 1; i >= len; i--) {
        buf[i] = (byte) ('0' + v % 10);
        v /= 10;
      }
      len += n;
    }

    private void crlf() {
      buf[len++] = '\r';
      buf[len++] = '\n';
    }

    private void ensure(int more) {
      if (len + more > buf.length) {
        buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + more));
      }
    }

    void clear() {
      len = 0;
      if (buf.length > KEEP) {
        buf = new byte[INITIAL]; // a huge round once does not pin a huge buffer
      }
    }
  }
}
