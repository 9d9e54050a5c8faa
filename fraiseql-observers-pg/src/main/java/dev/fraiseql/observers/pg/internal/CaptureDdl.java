package dev.fraiseql.observers.pg.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.config.ConfigProblem;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Generates, compares and applies the capture triggers' DDL for one {@link CapturePlan} and one
 * outbox table.
 *
 * <p>Per captured (table, operation): a PL/pgSQL function in the table's schema
 * ({@code fraiseql_capture_<outbox tag>_<table tag>_<op>}) and an {@code AFTER ... FOR EACH STATEMENT}
 * trigger with a transition table ({@code fraiseql_capture_<op>_<outbox tag>}) that writes <b>one</b>
 * outbox row per statement, whatever the number of rows it changed. Every identifier is
 * double-quoted and every configured text is a string literal: no configured text runs as SQL. The
 * functions pin {@code search_path} to {@code pg_catalog} and name everything qualified. Each trigger
 * carries a comment with the hash of its DDL: the start-up check and {@link #install} compare it.
 */
public final class CaptureDdl {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** The advisory lock (one bigint key) under which installs and uninstalls run. */
  static final long LOCK_KEY = 0x6671_6361_7074_7572L; // "fqcaptur"
  static final String COMMENT_PREFIX = "fraiseql-observers capture ";
  /** A 48-bit millisecond timestamp over a random UUID, version bits set to 7: a UUID v7, as ObservedEvent makes. */
  static final String UUID_V7 = "encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing"
      + " substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6),"
      + " 52, 1), 53, 1), 'hex')::uuid";

  /** One object this plan wants: a (table, operation) trigger and its function. */
  public record Wanted(CapturePlan.Table table, Operation op, String schema, String relation, String function,
      String trigger, String hash, String sql) {
    /** {@code "schema"."table"} */
    public String qualified() {
      return CaptureName.quote(schema) + "." + CaptureName.quote(relation);
    }
  }

  /** A capture trigger found in the catalog for this outbox. */
  public record Found(String schema, String relation, String trigger, String comment) {
    /** {@code "schema"."table"} */
    public String qualified() {
      return CaptureName.quote(schema) + "." + CaptureName.quote(relation);
    }

    /** The operation its name says ({@code fraiseql_capture_insert_...}). */
    public Operation op() {
      for (Operation o : Operation.values()) {
        if (trigger.startsWith("fraiseql_capture_" + o.name().toLowerCase(Locale.ROOT) + "_")) {
          return o;
        }
      }
      throw new IllegalStateException("not a capture trigger name: " + trigger);
    }
  }

  private final CapturePlan plan;
  private final PgIdentifier outbox;
  private final String channel;
  private final int wakeNamespace;
  private final int wakeKey;

  public CaptureDdl(CapturePlan plan, PgIdentifier outbox, String channel, int wakeNamespace, int wakeKey) {
    this.plan = plan;
    this.outbox = outbox;
    this.channel = channel;
    this.wakeNamespace = wakeNamespace;
    this.wakeKey = wakeKey;
  }

  /** The outbox's schema-qualified, quoted name; fails with a fix when the table does not exist. */
  String outboxQualified(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT n.nspname, k.relname FROM pg_class k"
        + " JOIN pg_namespace n ON n.oid = k.relnamespace WHERE k.oid = to_regclass(?)")) {
      ps.setString(1, outbox.quoted());
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new IllegalStateException("the outbox table " + outbox + " does not exist: create it first"
              + " (PgOutbox.createTable, or the migrations V3__observer_outbox.sql and V6__observer_outbox_json_fillfactor.sql)");
        }
        return CaptureName.quote(rs.getString(1)) + "." + CaptureName.quote(rs.getString(2));
      }
    }
  }

  /** The outbox tag in object names: 8 hex digits of the outbox's qualified name. */
  static String tag(String text) {
    return sha(text).substring(0, 8);
  }

  static String sha(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Everything the plan wants, resolved against the catalog.
   *
   * @throws ObserverConfigException naming a configured table that does not exist, a column it lacks,
   *     or a table without primary key whose UPDATEs are captured
   */
  public List<Wanted> wanted(Connection c) throws SQLException {
    String ob = outboxQualified(c);
    String obTag = tag(ob);
    List<Wanted> out = new ArrayList<>();
    List<ConfigProblem> problems = new ArrayList<>();
    for (CapturePlan.Table t : plan.tables()) {
      String schema;
      String rel;
      long oid;
      String kind;
      try (PreparedStatement ps = c.prepareStatement("SELECT k.oid, n.nspname, k.relname, k.relkind::text FROM pg_class k"
          + " JOIN pg_namespace n ON n.oid = k.relnamespace WHERE k.oid = to_regclass(?)")) {
        ps.setString(1, t.name().quoted());
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            problems.add(new ConfigProblem(t.location(), "table", "captured table " + t.name()
                + " does not exist in the database", "create the table, fix its name (schema.table, quoted parts"
                + " for mixed case), or map it with [[observers.capture]] table = \"...\", entity = \"...\""));
            continue;
          }
          oid = rs.getLong(1);
          schema = rs.getString(2);
          rel = rs.getString(3);
          kind = rs.getString(4);
        }
      }
      if (!kind.equals("r") && !kind.equals("p")) {
        problems.add(new ConfigProblem(t.location(), "table", "captured table " + t.name() + " is not a table"
            + " (a view or another kind of relation)", "capture the table the view reads from"));
        continue;
      }
      List<String> cols = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT attname FROM pg_attribute WHERE attrelid = ?"
          + " AND attnum > 0 AND NOT attisdropped ORDER BY attnum")) {
        ps.setLong(1, oid);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            cols.add(rs.getString(1));
          }
        }
      }
      List<String> missing = new ArrayList<>();
      for (String col : t.columns()) {
        if (!cols.contains(col)) {
          missing.add(col);
        }
      }
      for (String col : t.excluded()) {
        if (!cols.contains(col)) {
          missing.add(col);
        }
      }
      if (!missing.isEmpty()) {
        problems.add(new ConfigProblem(t.location(), t.columns().isEmpty() ? "exclude_columns" : "columns",
            "table " + t.name() + " has no column " + String.join(", ", missing),
            "its columns are " + String.join(", ", cols)));
        continue;
      }
      List<String> pk = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT a.attname FROM pg_index i JOIN pg_attribute a"
          + " ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey::int2[]) WHERE i.indrelid = ? AND i.indisprimary"
          + " ORDER BY array_position(i.indkey::int2[], a.attnum)")) {
        ps.setLong(1, oid);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            pk.add(rs.getString(1));
          }
        }
      }
      if (t.operations().contains(Operation.UPDATE) && pk.isEmpty()) {
        problems.add(new ConfigProblem(t.location(), "table", "table " + t.name() + " has no primary key, which"
            + " capturing its UPDATEs needs (to pair each row's old and new values)",
            "add a primary key, or capture only INSERT and DELETE (operations = [\"INSERT\", \"DELETE\"])"));
        continue;
      }
      String relTag = tag(schema + "." + rel);
      for (Operation op : Operation.values()) {
        if (!t.operations().contains(op)) {
          continue;
        }
        String o = op.name().toLowerCase(Locale.ROOT);
        String function = "fraiseql_capture_" + obTag + "_" + relTag + "_" + o;
        String trigger = "fraiseql_capture_" + o + "_" + obTag;
        String body = functionSql(t, op, schema, function, ob, pk) + ";\n" + triggerSql(op, schema, rel, function, trigger);
        String hash = sha(body).substring(0, 16);
        String comment = COMMENT_PREFIX + "outbox=" + ob + " hash=" + hash;
        String sql = body + ";\nCOMMENT ON TRIGGER " + CaptureName.quote(trigger) + " ON " + CaptureName.quote(schema)
            + "." + CaptureName.quote(rel) + " IS " + CaptureName.literal(comment) + ";\nCOMMENT ON FUNCTION "
            + CaptureName.quote(schema) + "." + CaptureName.quote(function) + "() IS " + CaptureName.literal(comment);
        out.add(new Wanted(t, op, schema, rel, function, trigger, hash, sql));
      }
    }
    if (!problems.isEmpty()) {
      throw new ObserverConfigException(problems.get(0).location().file(), problems);
    }
    return out;
  }

  /** The capture triggers present for this outbox (on any table). */
  public List<Found> found(Connection c) throws SQLException {
    String obTag = tag(outboxQualified(c));
    List<Found> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT n.nspname, k.relname, t.tgname,"
        + " coalesce(obj_description(t.oid, 'pg_trigger'), '') FROM pg_trigger t JOIN pg_class k ON k.oid = t.tgrelid"
        + " JOIN pg_namespace n ON n.oid = k.relnamespace WHERE NOT t.tgisinternal"
        + " AND t.tgname IN ('fraiseql_capture_insert_' || ?, 'fraiseql_capture_update_' || ?, 'fraiseql_capture_delete_' || ?)"
        + " ORDER BY 1, 2, 3")) {
      ps.setString(1, obTag);
      ps.setString(2, obTag);
      ps.setString(3, obTag);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new Found(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)));
        }
      }
    }
    return out;
  }

  /** The capture functions present for this outbox: {@code "schema"."name"()}. */
  List<String> functions(Connection c) throws SQLException {
    String obTag = tag(outboxQualified(c));
    List<String> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT n.nspname, p.proname"
        + " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.proname LIKE ? ORDER BY 1, 2")) {
      ps.setString(1, "fraiseql\\_capture\\_" + obTag + "\\_%");
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(CaptureName.quote(rs.getString(1)) + "." + CaptureName.quote(rs.getString(2)) + "()");
        }
      }
    }
    return out;
  }

  /** What differs between the plan and the catalog. */
  public record Diff(List<Wanted> create, List<Wanted> upgrade, List<Wanted> current, List<Found> extra,
      List<String> dropTriggers, List<String> dropFunctions) {
    public boolean upToDate() {
      return create.isEmpty() && upgrade.isEmpty() && dropTriggers.isEmpty() && dropFunctions.isEmpty();
    }
  }

  public Diff diff(Connection c) throws SQLException {
    List<Wanted> wanted = wanted(c);
    Map<String, Found> found = new LinkedHashMap<>();
    for (Found f : found(c)) {
      found.put(f.schema() + "\u0000" + f.relation() + "\u0000" + f.trigger(), f);
    }
    List<Wanted> create = new ArrayList<>();
    List<Wanted> upgrade = new ArrayList<>();
    List<Wanted> current = new ArrayList<>();
    List<String> keepFunctions = new ArrayList<>();
    for (Wanted w : wanted) {
      Found f = found.remove(w.schema() + "\u0000" + w.relation() + "\u0000" + w.trigger());
      keepFunctions.add(CaptureName.quote(w.schema()) + "." + CaptureName.quote(w.function()) + "()");
      if (f == null) {
        create.add(w);
      } else if (!f.comment().endsWith(" hash=" + w.hash())) {
        upgrade.add(w);
      } else {
        current.add(w);
      }
    }
    List<String> dropTriggers = new ArrayList<>();
    for (Found f : found.values()) {
      dropTriggers.add("DROP TRIGGER IF EXISTS " + CaptureName.quote(f.trigger()) + " ON " + CaptureName.quote(f.schema())
          + "." + CaptureName.quote(f.relation()));
    }
    List<String> dropFunctions = new ArrayList<>();
    for (String fn : functions(c)) {
      if (!keepFunctions.contains(fn)) {
        dropFunctions.add("DROP FUNCTION IF EXISTS " + fn);
      }
    }
    return new Diff(create, upgrade, current, List.copyOf(found.values()), dropTriggers, dropFunctions);
  }

  /** The full install script: every wanted object (idempotent), and drops of the stale ones. */
  public String script(Connection c) throws SQLException {
    Diff d = diff(c);
    StringBuilder b = new StringBuilder();
    b.append("-- fraiseql-observers capture triggers for outbox ").append(outboxQualified(c)).append('\n');
    List<Wanted> all = new ArrayList<>(d.create());
    all.addAll(d.upgrade());
    all.addAll(d.current());
    for (Wanted w : all) {
      b.append("\n-- ").append(w.op()).append(" on ").append(w.qualified()).append(" (events ")
          .append(w.table().entity()).append('.').append(w.op().verb()).append(")\n").append(w.sql()).append(";\n");
    }
    for (String s : d.dropTriggers()) {
      b.append('\n').append(s).append(";\n");
    }
    for (String s : d.dropFunctions()) {
      b.append('\n').append(s).append(";\n");
    }
    return b.toString();
  }

  /** The uninstall script: every capture trigger and function of this outbox. */
  public String uninstallScript(Connection c) throws SQLException {
    StringBuilder b = new StringBuilder();
    for (Found f : found(c)) {
      b.append("DROP TRIGGER IF EXISTS ").append(CaptureName.quote(f.trigger())).append(" ON ")
          .append(CaptureName.quote(f.schema())).append('.').append(CaptureName.quote(f.relation())).append(";\n");
    }
    for (String fn : functions(c)) {
      b.append("DROP FUNCTION IF EXISTS ").append(fn).append(";\n");
    }
    return b.toString();
  }

  /** Takes the install lock for the current transaction. */
  public static void lock(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(" + LOCK_KEY + ")")) {
      ps.execute();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // generation

  private String functionSql(CapturePlan.Table t, Operation op, String schema, String function, String ob,
      List<String> pk) {
    String source;
    String element;
    String where = "";
    switch (op) {
      case INSERT:
        source = "fraiseql_new n";
        element = "'{\"new\":' || " + rowJson(t, "n") + " || ',\"old\":null}'";
        break;
      case DELETE:
        source = "fraiseql_old o";
        element = "'{\"new\":null,\"old\":' || " + rowJson(t, "o") + " || '}'";
        break;
      default:
        StringBuilder on = new StringBuilder();
        for (String k : pk) {
          if (on.length() > 0) {
            on.append(" AND ");
          }
          on.append("n.").append(CaptureName.quote(k)).append(" = o.").append(CaptureName.quote(k));
        }
        String k0 = CaptureName.quote(pk.get(0));
        // an UPDATE that changes a primary key: the rows do not pair up, each side is sent with the other null
        source = "fraiseql_new n FULL JOIN fraiseql_old o ON " + on;
        element = "'{\"new\":' || CASE WHEN n." + k0 + " IS NULL THEN 'null' ELSE " + rowJson(t, "n") + " END"
            + " || ',\"old\":' || CASE WHEN o." + k0 + " IS NULL THEN 'null' ELSE " + rowJson(t, "o") + " END || '}'";
        where = " WHERE n." + k0 + " IS NULL OR o." + k0 + " IS NULL OR " + captured(t, "n") + " IS DISTINCT FROM "
            + captured(t, "o");
        break;
    }
    String header = "{\"capture\":1,\"event\":\"" + op.name() + "\",\"table\":" + json(t.tableText())
        + ",\"timestamp\":\"";
    String eventName = t.entity() + "." + op.verb();
    String body = "DECLARE\n"
        + "  a text := nullif(current_setting('fraiseql.attributes', true), '');\n"
        + "  tp text := nullif(current_setting('fraiseql.traceparent', true), '');\n"
        + "  attrs jsonb;\n"
        + "BEGIN\n"
        + "  -- fraiseql-observers capture: one outbox row per statement, split into events by the relay\n"
        + "  IF a IS NOT NULL THEN\n"
        + "    BEGIN\n"
        + "      attrs := a::jsonb;\n"
        + "      IF jsonb_typeof(attrs) <> 'object' THEN attrs := NULL; END IF;\n"
        + "    EXCEPTION WHEN others THEN attrs := NULL; -- malformed fraiseql.attributes: left out, never an error\n"
        + "    END;\n"
        + "  END IF;\n"
        + "  IF tp IS NOT NULL THEN\n"
        + "    attrs := coalesce(attrs, '{}'::jsonb) || jsonb_build_object('traceparent', tp);\n"
        + "  END IF;\n"
        + "  INSERT INTO " + ob + " (event_id, event)\n"
        + "  SELECT " + UUID_V7 + ",\n"
        + "    (" + CaptureName.literal(header) + " || to_char(clock_timestamp() AT TIME ZONE 'UTC',"
        + " 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') || " + CaptureName.literal("\",\"key\":" + json(pk) + ",\"context\":")
        + "\n      || json_strip_nulls(json_build_object('event_name', " + CaptureName.literal(eventName)
        + ", 'mutation', nullif(current_setting('fraiseql.mutation', true), ''),"
        + " 'user_id', nullif(current_setting('fraiseql.user_id', true), ''),"
        + " 'tenant_id', nullif(current_setting('fraiseql.tenant_id', true), ''),"
        + " 'request_id', nullif(current_setting('fraiseql.request_id', true), ''), 'attributes', attrs))::text\n"
        + "      || ',\"rows\":[' || r.rows || ']}')::json\n"
        + "  FROM (SELECT string_agg(" + element + ", ',') AS rows FROM " + source + where + ") r\n"
        + "  WHERE r.rows IS NOT NULL;\n"
        + "  IF FOUND THEN\n"
        + "    -- wake a relay that waits for work (see PgOutbox.record); never waits itself\n"
        + "    PERFORM pg_notify(" + CaptureName.literal(channel) + ", '') WHERE NOT pg_try_advisory_xact_lock_shared("
        + wakeNamespace + ", " + wakeKey + ");\n"
        + "  END IF;\n"
        + "  RETURN NULL;\n"
        + "END\n";
    // a dollar-quote tag that the body (which holds configured names as literals) does not contain
    String tag = "$fraiseql$";
    for (int i = 1; body.contains(tag); i++) {
      tag = "$fraiseql" + i + "$";
    }
    return "CREATE OR REPLACE FUNCTION " + CaptureName.quote(schema) + "." + CaptureName.quote(function) + "()"
        + " RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS " + tag + "\n" + body + tag;
  }

  private static String triggerSql(Operation op, String schema, String rel, String function, String trigger) {
    String table = CaptureName.quote(schema) + "." + CaptureName.quote(rel);
    String referencing = switch (op) {
      case INSERT -> "NEW TABLE AS fraiseql_new";
      case DELETE -> "OLD TABLE AS fraiseql_old";
      default -> "OLD TABLE AS fraiseql_old NEW TABLE AS fraiseql_new";
    };
    return "DROP TRIGGER IF EXISTS " + CaptureName.quote(trigger) + " ON " + table + ";\n"
        + "CREATE TRIGGER " + CaptureName.quote(trigger) + " AFTER " + op.name() + " ON " + table
        + " REFERENCING " + referencing + " FOR EACH STATEMENT EXECUTE FUNCTION " + CaptureName.quote(schema) + "."
        + CaptureName.quote(function) + "()";
  }

  /** The row's JSON text with only the captured columns. */
  private static String rowJson(CapturePlan.Table t, String alias) {
    if (!t.columns().isEmpty()) {
      return "json_build_object(" + pairs(t, alias) + ")::text";
    }
    if (!t.excluded().isEmpty()) {
      return "(to_jsonb(" + alias + ") - " + textArray(t.excluded()) + ")::text";
    }
    return "row_to_json(" + alias + ")::text";
  }

  /** The captured columns as jsonb, to compare old and new. */
  private static String captured(CapturePlan.Table t, String alias) {
    if (!t.columns().isEmpty()) {
      return "jsonb_build_object(" + pairs(t, alias) + ")";
    }
    if (!t.excluded().isEmpty()) {
      return "(to_jsonb(" + alias + ") - " + textArray(t.excluded()) + ")";
    }
    return "to_jsonb(" + alias + ")";
  }

  private static String pairs(CapturePlan.Table t, String alias) {
    StringBuilder b = new StringBuilder();
    for (String col : t.columns()) {
      if (b.length() > 0) {
        b.append(", ");
      }
      b.append(CaptureName.literal(col)).append(", ").append(alias).append('.').append(CaptureName.quote(col));
    }
    return b.toString();
  }

  private static String textArray(List<String> values) {
    StringBuilder b = new StringBuilder("ARRAY[");
    for (int i = 0; i < values.size(); i++) {
      if (i > 0) {
        b.append(", ");
      }
      b.append(CaptureName.literal(values.get(i)));
    }
    return b.append("]::text[]").toString();
  }

  private static String json(Object value) {
    try {
      return JSON.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
