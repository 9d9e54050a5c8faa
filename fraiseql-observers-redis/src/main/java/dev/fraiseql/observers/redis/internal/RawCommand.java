package dev.fraiseql.observers.redis.internal;

import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.args.Rawable;
import redis.clients.jedis.commands.ProtocolCommand;

/**
 * A reusable command line of binary arguments, written by Jedis' {@code Protocol.sendCommand} like any
 * {@link CommandArguments}: {@code *<n>} then each argument as a bulk string. Unlike
 * {@link CommandArguments} it wraps no argument in an object and keeps its array between commands, so
 * pipelining thousands of XADDs allocates nothing per argument. Confined to one thread; {@link #reset}
 * before each command, {@link #add} the arguments, then {@code connection.sendCommand(this)}.
 */
final class RawCommand extends CommandArguments {
  private final ProtocolCommand command;
  private byte[][] args = new byte[64][];
  private int size;
  /** The one Rawable handed out while the arguments are written (Jedis reads each at once). */
  private final Cursor cursor = new Cursor();

  RawCommand(ProtocolCommand command) {
    super(command);
    this.command = command;
  }

  RawCommand reset() {
    Arrays.fill(args, 0, size, null);
    size = 0;
    return this;
  }

  @Override
  public RawCommand add(byte[] arg) {
    if (arg == null) {
      throw new IllegalArgumentException("null is not a valid argument");
    }
    if (size == args.length) {
      args = Arrays.copyOf(args, size * 2);
    }
    args[size++] = arg;
    return this;
  }

  /** Arguments, not counting the command. */
  int arguments() {
    return size;
  }

  @Override
  public int size() {
    return size + 1;
  }

  @Override
  public Iterator<Rawable> iterator() {
    cursor.next = -1;
    return cursor;
  }

  private final class Cursor implements Iterator<Rawable>, Rawable {
    int next;
    private byte[] current;

    @Override
    public boolean hasNext() {
      return next < size;
    }

    @Override
    public Rawable next() {
      if (next >= size) {
        throw new NoSuchElementException();
      }
      if (next++ < 0) {
        return command;
      }
      current = args[next - 1];
      return this;
    }

    @Override
    public byte[] getRaw() {
      return current;
    }
  }
}
