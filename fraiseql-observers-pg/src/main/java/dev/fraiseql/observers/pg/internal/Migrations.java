package dev.fraiseql.observers.pg.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * The DDL this module ships in {@code dev/fraiseql/observers/pg/migrations/} (runnable as is with
 * psql or a migration tool, for the default table names), applied on demand with the configured
 * names. Concurrent instances serialize on an advisory lock, so {@code CREATE ... IF NOT EXISTS}
 * never races.
 */
public final class Migrations {
  public static final String IDEMPOTENCY = "V1__observer_idempotency_keys.sql";
  public static final String DEAD_LETTERS = "V2__observer_dead_letters.sql";
  public static final String OUTBOX = "V3__observer_outbox.sql";
  public static final String EVENTS = "V4__observer_events.sql";
  /** Applied with {@link #IDEMPOTENCY}: fillfactor 60, so completing a claim is a HOT update. */
  public static final String IDEMPOTENCY_FILLFACTOR = "V5__observer_idempotency_keys_fillfactor.sql";
  /**
   * Applied with {@link #OUTBOX}: {@code event} as JSON (exact text), the claim's index on {@code (id)},
   * fillfactor 50 (claims are HOT updates).
   */
  public static final String OUTBOX_UPGRADE = "V6__observer_outbox_json_fillfactor.sql";

  /**
   * One file of a component's migrations; {@code onlyIfMissing} names the table whose absence it
   * needs (a file whose idempotent statements a later file undoes, such as V3's old index, which V6
   * replaces, runs only on a new table).
   */
  private record Step(String file, String onlyIfMissing) {}

  /** What {@link #apply} runs for each component's base file, in order, in one transaction. */
  private static final Map<String, List<Step>> STEPS = Map.of(
      IDEMPOTENCY, List.of(new Step(IDEMPOTENCY, null), new Step(IDEMPOTENCY_FILLFACTOR, null)),
      OUTBOX, List.of(new Step(OUTBOX, "observer_outbox"), new Step(OUTBOX_UPGRADE, null)));
  private static final Pattern TOKEN = Pattern.compile("\\bobserver_[a-z_]+\\b");
  private static final long LOCK_KEY = 0x6672_6169_7365_716CL; // "fraiseql"

  private Migrations() {}

  /** The file's text with each default name replaced by the quoted configured one. */
  public static String render(String file, Map<String, PgIdentifier> tables) {
    String text = read(file);
    Matcher m = TOKEN.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String token = m.group();
      String best = null;
      for (String base : tables.keySet()) {
        if ((token.equals(base) || token.startsWith(base + "_")) && (best == null || base.length() > best.length())) {
          best = base;
        }
      }
      String replacement;
      if (best == null) {
        replacement = token;
      } else if (token.equals(best)) {
        replacement = tables.get(best).quoted();
      } else {
        replacement = tables.get(best).quotedDerivedName(token.substring(best.length()));
      }
      m.appendReplacement(out, Matcher.quoteReplacement(replacement));
    }
    m.appendTail(out);
    return out.toString();
  }

  /**
   * Runs the rendered file, and the files that upgrade what it creates (V5 after V1, V6 after V3),
   * in one transaction under the module's advisory lock.
   */
  public static void apply(DataSource ds, String file, Map<String, PgIdentifier> tables) throws SQLException {
    List<Step> steps = STEPS.getOrDefault(file, List.of(new Step(file, null)));
    try (Connection c = ds.getConnection()) {
      boolean auto = c.getAutoCommit();
      c.setAutoCommit(false);
      try (Statement st = c.createStatement()) {
        st.execute("SELECT pg_advisory_xact_lock(" + LOCK_KEY + ")");
        for (Step step : steps) {
          if (step.onlyIfMissing() != null && exists(c, tables.get(step.onlyIfMissing()))) {
            continue;
          }
          st.execute(render(step.file(), tables));
        }
        c.commit();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(auto);
      }
    }
  }

  private static boolean exists(Connection c, PgIdentifier table) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
      ps.setString(1, table.quoted());
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() && rs.getBoolean(1);
      }
    }
  }

  static String read(String file) {
    try (InputStream in = Migrations.class.getResourceAsStream("/dev/fraiseql/observers/pg/migrations/" + file)) {
      if (in == null) {
        throw new IllegalStateException("migration " + file + " is missing from the fraiseql-observers-pg jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
