package dev.fraiseql.observers.pg.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverException;
import dev.fraiseql.observers.spi.AttemptRecord;
import dev.fraiseql.observers.spi.DeadLetter;
import dev.fraiseql.observers.spi.DeadLetterQuery;
import dev.fraiseql.observers.spi.DeadLetterStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Dead letters in a PostgreSQL table ({@code observer_dead_letters} by default): the event as
 * {@code json} (its exact text, so a replay sends the same bytes), handler, subject, reason, every
 * attempt ({@code jsonb} array) and when. They survive restarts; the engine lists, replays and discards them through this store. Times are kept to the
 * microsecond (PostgreSQL's {@code timestamptz} precision). The table grows until
 * dead letters are replayed or discarded (there is no automatic expiry: a dead letter is work
 * someone must look at).
 */
public final class PgDeadLetterStore implements DeadLetterStore {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String COLUMNS = "id, event::text, handler, subject, reason, attempts::text, dead_lettered_at";

  private final PgDatabase db;
  private final PgIdentifier table;
  private final boolean createTables;
  private volatile boolean tableReady;

  public PgDeadLetterStore(PgDatabase db, PgIdentifier table, boolean createTables) {
    this.db = Objects.requireNonNull(db, "db");
    this.table = Objects.requireNonNull(table, "table");
    this.createTables = createTables;
  }

  public PgIdentifier table() {
    return table;
  }

  private void ensureTable() throws SQLException {
    if (!tableReady) {
      if (createTables) {
        Migrations.apply(db.dataSource(), Migrations.DEAD_LETTERS, Map.of("observer_dead_letters", table));
      }
      tableReady = true;
    }
  }

  @Override
  public void add(DeadLetter letter) {
    Objects.requireNonNull(letter, "letter");
    String sql = "INSERT INTO " + table.quoted() + " (id, event_id, handler, subject, reason, event, attempts,"
        + " dead_lettered_at) VALUES (?, ?, ?, ?, ?, ?::json, ?::jsonb, ?)"
        + " ON CONFLICT (id) DO UPDATE SET event_id = EXCLUDED.event_id, handler = EXCLUDED.handler,"
        + " subject = EXCLUDED.subject, reason = EXCLUDED.reason, event = EXCLUDED.event,"
        + " attempts = EXCLUDED.attempts, dead_lettered_at = EXCLUDED.dead_lettered_at, stored_at = now()";
    try {
      ensureTable();
      try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
        ps.setString(1, letter.id());
        ps.setObject(2, letter.event().id());
        ps.setString(3, letter.handler());
        ps.setString(4, letter.subject().orElse(null));
        ps.setString(5, letter.reason());
        ps.setString(6, letter.event().toJsonString());
        ps.setString(7, attemptsJson(letter));
        ps.setTimestamp(8, Timestamp.from(letter.deadLetteredAt()));
        ps.executeUpdate();
      }
    } catch (SQLException e) {
      throw failure("store dead letter " + letter.id(), e);
    }
  }

  @Override
  public List<DeadLetter> list(DeadLetterQuery query) {
    StringBuilder sql = new StringBuilder("SELECT " + COLUMNS + " FROM " + table.quoted() + " WHERE true");
    List<Object> args = new ArrayList<>();
    query.handler().ifPresent(h -> {
      sql.append(" AND handler = ?");
      args.add(h);
    });
    query.since().ifPresent(t -> {
      sql.append(" AND dead_lettered_at >= ?");
      args.add(Timestamp.from(t.truncatedTo(ChronoUnit.MICROS)));
    });
    query.until().ifPresent(t -> {
      sql.append(" AND dead_lettered_at <= ?");
      args.add(Timestamp.from(t));
    });
    query.errorContains().ifPresent(text -> {
      sql.append(" AND (strpos(lower(reason), lower(?)) > 0 OR EXISTS (SELECT 1 FROM jsonb_array_elements(attempts) a"
          + " WHERE strpos(lower(a->>'outcome'), lower(?)) > 0))");
      args.add(text);
      args.add(text);
    });
    sql.append(" ORDER BY dead_lettered_at DESC, stored_at DESC, id DESC LIMIT ?");
    args.add(query.limit());
    try {
      ensureTable();
      try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql.toString())) {
        for (int i = 0; i < args.size(); i++) {
          ps.setObject(i + 1, args.get(i));
        }
        List<DeadLetter> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            DeadLetter d = read(rs);
            if (query.matches(d)) {
              out.add(d);
            }
          }
        }
        return out;
      }
    } catch (SQLException e) {
      throw failure("list dead letters", e);
    }
  }

  @Override
  public Optional<DeadLetter> get(String id) {
    try {
      ensureTable();
      try (Connection c = db.dataSource().getConnection();
           PreparedStatement ps = c.prepareStatement("SELECT " + COLUMNS + " FROM " + table.quoted() + " WHERE id = ?")) {
        ps.setString(1, id);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? Optional.of(read(rs)) : Optional.empty();
        }
      }
    } catch (SQLException e) {
      throw failure("read dead letter " + id, e);
    }
  }

  @Override
  public boolean remove(String id) {
    try {
      ensureTable();
      try (Connection c = db.dataSource().getConnection();
           PreparedStatement ps = c.prepareStatement("DELETE FROM " + table.quoted() + " WHERE id = ?")) {
        ps.setString(1, id);
        return ps.executeUpdate() > 0;
      }
    } catch (SQLException e) {
      throw failure("remove dead letter " + id, e);
    }
  }

  @Override
  public long count() {
    try {
      ensureTable();
      try (Connection c = db.dataSource().getConnection();
           PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM " + table.quoted());
           ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (SQLException e) {
      throw failure("count dead letters", e);
    }
  }

  private ObserverException failure(String what, SQLException e) {
    String hint = "42P01".equals(e.getSQLState()) ? " — create it with the shipped migration"
        + " dev/fraiseql/observers/pg/migrations/V2__observer_dead_letters.sql, or set [observers.postgres]"
        + " create_tables = true" : "";
    return new ObserverException("cannot " + what + " in " + table + " (" + db.describe() + "): "
        + SqlErrors.describe(e) + hint, e);
  }

  private static String attemptsJson(DeadLetter letter) {
    ArrayNode arr = JSON.createArrayNode();
    for (AttemptRecord a : letter.attempts()) {
      ObjectNode o = arr.addObject();
      o.put("attempt", a.attempt());
      o.put("started_at", a.startedAt().toString());
      o.put("elapsed_nanos", a.elapsed().toNanos());
      o.put("outcome", a.outcome());
    }
    return arr.toString();
  }

  private DeadLetter read(ResultSet rs) throws SQLException {
    String id = rs.getString(1);
    ObservedEvent event = ObservedEvent.fromJson(rs.getString(2).getBytes(StandardCharsets.UTF_8));
    List<AttemptRecord> attempts = new ArrayList<>();
    try {
      JsonNode arr = JSON.readTree(rs.getString(6));
      for (JsonNode a : arr) {
        attempts.add(new AttemptRecord(a.path("attempt").asInt(), Instant.parse(a.path("started_at").asText()),
            Duration.ofNanos(a.path("elapsed_nanos").asLong()), a.path("outcome").asText("")));
      }
    } catch (IOException e) {
      throw new SQLException("dead letter " + id + " has unreadable attempts", "22P02", e);
    }
    Timestamp at = rs.getTimestamp(7);
    return new DeadLetter(id, event, rs.getString(3), Optional.ofNullable(rs.getString(4)), rs.getString(5), attempts,
        at.toInstant());
  }

  @Override
  public String toString() {
    return "PgDeadLetterStore{" + table + " on " + db.describe() + "}";
  }
}
