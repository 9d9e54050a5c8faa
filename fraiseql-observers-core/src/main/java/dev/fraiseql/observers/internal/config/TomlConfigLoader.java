package dev.fraiseql.observers.internal.config;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.config.BackoffStrategy;
import dev.fraiseql.observers.config.CheckpointStrategy;
import dev.fraiseql.observers.config.ConfigLocation;
import dev.fraiseql.observers.config.ConfigProblem;
import dev.fraiseql.observers.config.ConfigText;
import dev.fraiseql.observers.config.ConfigUrls;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.Ordering;
import dev.fraiseql.observers.config.OverflowPolicy;
import dev.fraiseql.observers.config.RetryPolicy;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.config.SubscriptionConfig;
import dev.fraiseql.observers.config.Trigger;
import dev.fraiseql.observers.internal.condition.ConditionCompiler;
import dev.fraiseql.observers.internal.condition.ConditionSyntaxException;
import dev.fraiseql.observers.internal.condition.OrderingKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.tomlj.Toml;
import org.tomlj.TomlArray;
import org.tomlj.TomlParseError;
import org.tomlj.TomlParseResult;
import org.tomlj.TomlPosition;
import org.tomlj.TomlTable;
import org.tomlj.TomlVersion;

/**
 * Reads {@code fraiseql.toml} into an {@link ObserversConfig}: every form the seeds show, and the
 * canonical one the README teaches. It collects every problem (syntax, unknown keys with a "did you
 * mean", wrong types, bad values, missing variables, bad conditions with their column, duplicate
 * names, handlers without a target) and throws them together as one {@link ObserverConfigException}.
 * It never throws anything else for bad input.
 *
 * <p>Accepted forms:
 *
 * <ul>
 *   <li>{@code [observers]} with the keys of {@link ObserversConfig} and one table per backend
 *       ({@code [observers.nats]} ...). Tables other than {@code observers} are FraiseQL's own and are
 *       ignored.
 *   <li>Rules: {@code [[observers.rules]]} with nested {@code [[observers.rules.actions]]} (canonical);
 *       seed 000's {@code [observers]} + {@code [[observers]]} + {@code [[observers.actions]]}, which
 *       is not valid TOML and is rewritten line for line first; and {@code [[observers]]} alone.
 *   <li>{@code [[observers.handlers]]} and {@code [[observers.subscribe]]}.
 * </ul>
 *
 * <p>Which keys are rejected: unknown keys of {@code [observers]} and of rules always are. Handlers,
 * rule actions and subscriptions pass keys they do not know to {@code settings()} (the action or bus
 * validates them against its own keys when the engine starts), except near-misses of a known key
 * ({@code max_atempts}), which are reported here with their position.
 */
public final class TomlConfigLoader {
  /** Largest file accepted, in characters. */
  public static final int MAX_SOURCE_LENGTH = 1 << 20;
  /** Deepest nesting of arrays and inline tables accepted. */
  public static final int MAX_NESTING = 32;
  /** Most problems reported at once; the rest are counted. */
  public static final int MAX_PROBLEMS = 100;

  static final List<String> KNOWN_BACKENDS = List.of("in-memory", "nats", "redis", "postgres", "webhook");
  private static final List<String> URL_KEYS = List.of("nats_url", "redis_url", "database_url");
  private static final List<String> OBSERVERS_KEYS = List.of("backend", "nats_url", "redis_url", "database_url",
      "checkpoint_strategy", "idempotency_table", "idempotency_store", "dead_letter_store", "max_in_flight",
      "overflow_policy", "overflow_timeout_ms", "dead_letter_capacity", "shutdown_timeout_ms", "claim_ttl_ms",
      "rules", "handlers", "subscribe", "capture", "nats", "redis", "postgres", "webhook", "in-memory");
  private static final List<String> RETRY_KEYS = List.of("max_attempts", "backoff_strategy", "initial_delay_ms",
      "max_delay_ms", "jitter", "timeout_ms");
  private static final List<String> SYNC_KEYS = List.of("synchronous", "synchronous_timeout_ms");
  private static final List<String> ORDER_KEYS = List.of("ordering", "ordering_key");
  private static final List<String> ORDERINGS = List.of("none", "key");
  /** Shared with the engine, which checks configs built in code. */
  public static final String SUBSCRIPTION_ORDERING = "`ordering = \"key\"` is not supported on [[observers.subscribe]] "
      + "yet: a consumer runs messages concurrently and hands a failed one back to the bus, so a later message of "
      + "the same key can overtake it";
  public static final String SUBSCRIPTION_ORDERING_FIX = "remove `ordering` here; to keep one entity's events in order, "
      + "give the [[observers.handlers]] entry that runs the effect ordering = \"key\"";
  private static final List<String> TARGET_KEYS = List.of("webhook_url", "url_env", "url");
  private static final List<String> HANDLER_KEYS = concat(List.of("name", "event", "table", "operation", "action",
      "type", "condition"), RETRY_KEYS, SYNC_KEYS, TARGET_KEYS, ORDER_KEYS);
  private static final List<String> RULE_KEYS = concat(List.of("table", "event", "operation", "subject",
      "condition", "name", "actions"), RETRY_KEYS, SYNC_KEYS, ORDER_KEYS);
  private static final List<String> ACTION_KEYS = concat(List.of("type", "name", "condition"), RETRY_KEYS,
      SYNC_KEYS, TARGET_KEYS, ORDER_KEYS);
  private static final List<String> SUBSCRIBE_KEYS = concat(List.of("subject", "handler", "durable", "condition"),
      RETRY_KEYS, TARGET_KEYS, ORDER_KEYS);
  private static final List<String> OPERATIONS = List.of("INSERT", "UPDATE", "DELETE");
  private static final List<String> BACKOFFS = List.of("exponential", "linear", "fixed");
  private static final Pattern SQL_IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}(\\.[A-Za-z_][A-Za-z0-9_]{0,62})?");
  private static final Pattern DURABLE = Pattern.compile("[A-Za-z0-9_-]{1,200}");
  private static final Pattern LONG_TOKEN = Pattern.compile("Unexpected '[^']{13,}'");
  private static final Pattern NO_SPACE = Pattern.compile("\\S+");
  private static final String CONDITION_FIX = "conditions use field paths, 'strings', numbers, true/false/null,"
      + " == != < <= > >=, AND OR NOT, parentheses and CHANGED(f), CHANGED_TO(f, v), CHANGED_FROM(f, v), HAS_FIELD(f)";

  private final LoadContext ctx;
  private final boolean seedForm;
  private final Set<String> taken = new HashSet<>();
  private final Map<String, ConfigLocation> claimed = new HashMap<>();

  private TomlConfigLoader(LoadContext ctx, boolean seedForm) {
    this.ctx = ctx;
    this.seedForm = seedForm;
  }

  /**
   * Reads {@code toml}; {@code source} names it in messages ({@code fraiseql.toml}); {@code env} looks up
   * {@code ${VAR}} and {@code url_env} variables.
   *
   * @throws ObserverConfigException with every problem found, in file order
   */
  public static ObserversConfig load(String toml, String source, Function<String, Optional<String>> env) {
    Objects.requireNonNull(toml, "toml");
    Objects.requireNonNull(env, "env");
    String src = source == null || source.isBlank() ? "<string>" : source;
    if (toml.length() > MAX_SOURCE_LENGTH) {
      throw new ObserverConfigException(src, List.of(new ConfigProblem(new ConfigLocation(src, 1, 1, ""), "",
          "file is too large: " + toml.length() + " characters, at most " + MAX_SOURCE_LENGTH,
          "keep the observer configuration under 1 MiB")));
    }
    int[] deep = NestingGuard.tooDeep(toml, MAX_NESTING);
    if (deep != null) {
      throw new ObserverConfigException(src, List.of(new ConfigProblem(new ConfigLocation(src, deep[0], deep[1], ""), "",
          "arrays and inline tables are nested more than " + MAX_NESTING + " deep", "flatten the value")));
    }
    SeedFormRewriter.Result rewritten = SeedFormRewriter.rewrite(toml);
    LoadContext ctx = new LoadContext(src, env, rewritten.text);
    TomlParseResult parsed;
    try {
      parsed = Toml.parse(rewritten.text, TomlVersion.V1_0_0);
    } catch (RuntimeException | StackOverflowError | AssertionError e) {
      // tomlj overflows the stack on absurd nesting, and trips an internal assertion (when assertions
      // are enabled, as in tests) on some invalid escapes (a backslash-u with too few hex digits); neither has a position
      throw new ObserverConfigException(src, List.of(new ConfigProblem(new ConfigLocation(src, 1, 1, ""), "",
          "the file cannot be parsed as TOML (nested too deeply, or a malformed value such as a bad \\u escape)",
          "check the TOML syntax (https://toml.io)")));
    }
    if (parsed.hasErrors()) {
      for (TomlParseError e : parsed.errors()) {
        TomlPosition p = e.position();
        ctx.problems.add(new ConfigProblem(ctx.location(p, ""), "", "TOML syntax error: " + scrub(e.getMessage()),
            syntaxFix(e.getMessage())));
      }
      throw failure(ctx);
    }
    TomlConfigLoader loader = new TomlConfigLoader(ctx, rewritten.seedForm);
    ObserversConfig config;
    try {
      config = loader.read(parsed);
    } catch (RuntimeException e) {
      if (ctx.problems.isEmpty()) {
        throw e;
      }
      throw failure(ctx);
    }
    if (!ctx.problems.isEmpty()) {
      throw failure(ctx);
    }
    return config;
  }

  /** tomlj quotes the unexpected token; a long one (an unquoted secret, say) is not repeated. */
  static String scrub(String message) {
    return message == null ? "" : LONG_TOKEN.matcher(message).replaceAll("Unexpected text");
  }

  private static String syntaxFix(String message) {
    if (message != null && message.contains("previously defined")) {
      return "each key and table may be defined only once";
    }
    if (message != null && message.contains("not an array")) {
      return "rules are written [[observers.rules]] (seed 000's [[observers]] is also accepted)";
    }
    return "fix the TOML syntax (https://toml.io)";
  }

  private static ObserverConfigException failure(LoadContext ctx) {
    List<ConfigProblem> sorted = new ArrayList<>(new LinkedHashSet<>(ctx.problems));
    sorted.sort(Comparator.comparingInt((ConfigProblem p) -> p.location().line())
        .thenComparingInt(p -> p.location().column()));
    if (sorted.size() > MAX_PROBLEMS) {
      int more = sorted.size() - MAX_PROBLEMS;
      ConfigLocation last = sorted.get(MAX_PROBLEMS - 1).location();
      sorted = new ArrayList<>(sorted.subList(0, MAX_PROBLEMS));
      sorted.add(new ConfigProblem(new ConfigLocation(ctx.source, last.line(), last.column(), ""), "",
          "... and " + more + " more problems", "fix the ones above first"));
    }
    return new ObserverConfigException(ctx.source, sorted);
  }

  // ---------------------------------------------------------------------------------------------

  private ObserversConfig read(TomlParseResult root) {
    ObserversConfig.Builder b = ObserversConfig.builder().source(ctx.source);
    Object obs = root.get(List.of("observers"));
    if (obs == null) {
      return b.build();
    }
    if (!(obs instanceof TomlTable)) {
      ctx.problems.add(new ConfigProblem(ctx.location(root.inputPositionOf(List.of("observers")), "observers"),
          "observers", "`observers` must be a table, not " + Section.describe(obs),
          "write an [observers] table, with [[observers.rules]] / [[observers.handlers]] entries"));
      return b.build();
    }
    Section top = new Section(ctx, (TomlTable) obs, "[observers]", root.inputPositionOf(List.of("observers")));
    readObservers(top, b);

    TomlArray rules = array(top, "rules", seedForm ? "[[observers]]" : "[[observers.rules]]");
    TomlArray handlers = array(top, "handlers", "[[observers.handlers]]");
    TomlArray subscribe = array(top, "subscribe", "[[observers.subscribe]]");
    if (top.has("actions")) {
      top.raw("actions");
      top.problem("actions", "`[[observers.actions]]` does not follow a rule",
          "put it right after the rule it belongs to ([[observers.rules]] with table = ..., then [[observers.rules.actions]])");
    }
    top.rejectUnread(OBSERVERS_KEYS);

    reserveNames(rules, handlers);
    List<Object[]> entries = new ArrayList<>();
    for (int i = 0; rules != null && i < rules.size(); i++) {
      entries.add(new Object[] {rules.inputPositionOf(i), "rule", i});
    }
    for (int i = 0; handlers != null && i < handlers.size(); i++) {
      entries.add(new Object[] {handlers.inputPositionOf(i), "handler", i});
    }
    entries.sort(Comparator.comparingInt((Object[] e) -> line((TomlPosition) e[0]))
        .thenComparingInt(e -> column((TomlPosition) e[0])));
    for (Object[] e : entries) {
      int i = (Integer) e[2];
      if (e[1].equals("rule")) {
        Object t = rules.get(i);
        if (t instanceof TomlTable) {
          readRule(new Section(ctx, (TomlTable) t, ruleLabel(i), (TomlPosition) e[0]), i, b);
        }
      } else {
        Object t = handlers.get(i);
        if (t instanceof TomlTable) {
          readHandler(new Section(ctx, (TomlTable) t, "[[observers.handlers]] #" + (i + 1), (TomlPosition) e[0]), b);
        }
      }
    }
    for (int i = 0; subscribe != null && i < subscribe.size(); i++) {
      Object t = subscribe.get(i);
      if (t instanceof TomlTable) {
        readSubscription(new Section(ctx, (TomlTable) t, "[[observers.subscribe]] #" + (i + 1),
            subscribe.inputPositionOf(i)), b);
      }
    }
    if (!ctx.problems.isEmpty()) {
      return null;
    }
    try {
      return b.build();
    } catch (IllegalArgumentException ex) {
      ctx.problems.add(new ConfigProblem(top.location, "", ex.getMessage(), "fix the configuration"));
      return null;
    }
  }

  private String ruleLabel(int i) {
    return (seedForm ? "[[observers]] #" : "[[observers.rules]] #") + (i + 1);
  }

  private static int line(TomlPosition p) {
    return p == null ? 0 : p.line();
  }

  private static int column(TomlPosition p) {
    return p == null ? 0 : p.column();
  }

  private TomlArray array(Section top, String key, String header) {
    Object v = top.raw(key);
    if (v == null) {
      return null;
    }
    if (v instanceof TomlArray) {
      TomlArray a = (TomlArray) v;
      for (int i = 0; i < a.size(); i++) {
        if (!(a.get(i) instanceof TomlTable)) {
          top.problem(key, "`" + key + "` must be an array of tables", "write each entry as " + header);
          return null;
        }
      }
      return a;
    }
    top.problem(key, "`" + key + "` must be an array of tables, not " + Section.describe(v),
        "write each entry as " + header + " (double brackets)");
    return null;
  }

  // ---------------------------------------------------------------------------------------------
  // [observers]

  private void readObservers(Section s, ObserversConfig.Builder b) {
    String backend = s.text("backend", "backend = \"nats\"").orElse(ObserversConfig.DEFAULT_BACKEND);
    if (!NO_SPACE.matcher(backend).matches()) {
      s.problem("backend", "backend name must not contain spaces", "use one of: " + String.join(", ", KNOWN_BACKENDS));
      backend = ObserversConfig.DEFAULT_BACKEND;
    }
    b.backend(backend);
    Settings.Builder backendSettings = Settings.builder(s.location);
    for (String k : URL_KEYS) {
      s.text(k, k + " = \"${" + k.toUpperCase(Locale.ROOT) + "}\"").ifPresent(v -> {
        checkUrl(s, k, v, ConfigUrls.forKey(k).orElseThrow());
        backendSettings.put(k, v, s.loc(k), s.written(k));
      });
    }
    s.oneOf("checkpoint_strategy", List.of("at_least_once", "effectively_once"), "checkpoint_strategy")
        .flatMap(CheckpointStrategy::parse).ifPresent(b::checkpointStrategy);
    s.text("idempotency_table", "idempotency_table = \"observer_idempotency_keys\"").ifPresent(t -> {
      if (SQL_IDENTIFIER.matcher(t).matches()) {
        b.idempotencyTable(t);
      } else {
        s.problem("idempotency_table", "`idempotency_table` is not a valid SQL table name",
            "use letters, digits and _ (optionally schema.table), e.g. observer_idempotency_keys");
      }
    });
    Optional<String> idempotencyStore = s.text("idempotency_store", "idempotency_store = \"postgres\"");
    idempotencyStore.ifPresent(b::idempotencyStore);
    Optional<String> deadLetterStore = s.text("dead_letter_store", "dead_letter_store = \"postgres\"");
    deadLetterStore.ifPresent(b::deadLetterStore);
    s.integer("max_in_flight", 1, 10_000_000, "max_in_flight = 10000").ifPresent(v -> b.maxInFlight(v.intValue()));
    s.oneOf("overflow_policy", List.of("block", "reject", "dead_letter"), "overflow_policy")
        .flatMap(OverflowPolicy::parse).ifPresent(b::overflowPolicy);
    s.integer("overflow_timeout_ms", 0, Long.MAX_VALUE, "overflow_timeout_ms = 5000")
        .ifPresent(v -> b.overflowTimeout(Duration.ofMillis(v)));
    s.integer("dead_letter_capacity", 1, 10_000_000, "dead_letter_capacity = 10000")
        .ifPresent(v -> b.deadLetterCapacity(v.intValue()));
    s.integer("shutdown_timeout_ms", 0, Long.MAX_VALUE, "shutdown_timeout_ms = 30000")
        .ifPresent(v -> b.shutdownTimeout(Duration.ofMillis(v)));
    s.integer("claim_ttl_ms", 1, Long.MAX_VALUE, "claim_ttl_ms = 300000").ifPresent(v -> b.claimTtl(Duration.ofMillis(v)));

    // one table per backend; the chosen backend's keys go to backendSettings, every backend's to
    // backendTable(name) (a backend used only for its stores reads its own table)
    Settings urlsOnly = backendSettings.build();
    // [[observers.capture]] (the pg module's capture triggers) goes to the postgres settings as
    // capture_tables; the pg module validates its keys
    Object capture = null;
    if (s.has("capture")) {
      Object raw = s.raw("capture");
      if (raw instanceof TomlArray) {
        capture = s.settingsValue("capture");
      } else {
        s.typeProblem("capture", "an array of tables", raw, "[[observers.capture]]");
      }
    }
    Set<String> tables = new LinkedHashSet<>(KNOWN_BACKENDS);
    tables.add(backend);
    idempotencyStore.ifPresent(tables::add);
    deadLetterStore.ifPresent(tables::add);
    for (String name : tables) {
      if (!s.has(name)) {
        continue;
      }
      Object t = s.raw(name);
      if (!(t instanceof TomlTable)) {
        s.typeProblem(name, "a table", t, "[observers." + name + "]");
        continue;
      }
      Section bt = new Section(ctx, (TomlTable) t, "[observers." + name + "]", s.position(name), false);
      Settings.Builder own = urlsOnly.toBuilder();
      for (String k : bt.orderedKeys()) {
        Object v = bt.settingsValue(k);
        if (v != null && URL_KEYS.contains(k)) {
          checkUrl(bt, k, v, ConfigUrls.forKey(k).orElseThrow());
        }
        if (v != null && !(URL_KEYS.contains(k) && urlsOnly.has(k))) {
          own.put(k, v, bt.loc(k), bt.written(k));
        }
        if (v != null && name.equals(backend)) {
          if (URL_KEYS.contains(k) && backendSettings.build().has(k)) {
            bt.problem(k, "`" + k + "` is set both in [observers] and in [observers." + name + "]",
                "keep only one of them");
          } else {
            backendSettings.put(k, v, bt.loc(k), bt.written(k));
          }
        }
      }
      if (capture != null && name.equals("postgres")) {
        own.put("capture_tables", capture, s.loc("capture"));
      }
      b.backendTable(name, own.build());
    }
    if (capture != null) {
      if (!s.has("postgres")) {
        b.backendTable("postgres", urlsOnly.toBuilder().put("capture_tables", capture, s.loc("capture")).build());
      }
      if (backend.equals("postgres")) {
        backendSettings.put("capture_tables", capture, s.loc("capture"));
      }
    }
    b.backendSettings(backendSettings.build());
  }

  /** The one URL check ({@link ConfigUrls}), reported with the key's position; never shows an env value. */
  private void checkUrl(Section s, String key, Object value, ConfigUrls.Rule rule) {
    String written = s.written(key);
    ConfigLocation at = s.loc(key);
    if (!(value instanceof String)) {
      s.typeProblem(key, "a string", value, key + " = \"" + rule.example().split(" ")[0] + "\"");
      return;
    }
    ConfigUrls.check((String) value, written != null, rule, key, ConfigText.shown(value, written), at)
        .ifPresent(ctx.problems::add);
  }

  // ---------------------------------------------------------------------------------------------
  // names

  private void reserveNames(TomlArray rules, TomlArray handlers) {
    for (int i = 0; handlers != null && i < handlers.size(); i++) {
      reserve(handlers.get(i), "name");
    }
    for (int i = 0; rules != null && i < rules.size(); i++) {
      reserve(rules.get(i), "name");
      Object t = rules.get(i);
      if (t instanceof TomlTable && ((TomlTable) t).get(List.of("actions")) instanceof TomlArray) {
        TomlArray actions = (TomlArray) ((TomlTable) t).get(List.of("actions"));
        for (int k = 0; k < actions.size(); k++) {
          reserve(actions.get(k), "name");
        }
      }
    }
  }

  private void reserve(Object table, String key) {
    if (table instanceof TomlTable) {
      Object n = ((TomlTable) table).get(List.of(key));
      if (n instanceof String) {
        taken.add((String) n);
      }
    }
  }

  /** An explicit name: unique, or a problem. */
  private boolean claim(Section s, String key, String name) {
    ConfigLocation first = claimed.get(name);
    if (first != null) {
      s.problem(key, "duplicate handler name `" + name + "` (first used at " + first + ")",
          "give each handler a unique name");
      return false;
    }
    claimed.put(name, s.loc(key));
    taken.add(name);
    return true;
  }

  /** A generated name: {@code base}, or {@code base#2}, {@code base#3} ... when taken. */
  private String generate(String base, ConfigLocation at) {
    String name = base;
    for (int n = 2; taken.contains(name); n++) {
      name = base + "#" + n;
    }
    claimed.put(name, at);
    taken.add(name);
    return name;
  }

  // ---------------------------------------------------------------------------------------------
  // handlers

  private void readHandler(Section s, ObserversConfig.Builder out) {
    Optional<String> name = s.text("name", "name = \"welcome-email\"");
    if (!s.has("name")) {
      s.problemAt(s.location, "name", "missing required key `name`", "add name = \"...\" (unique per handler)");
    }
    Trigger trigger = readHandlerTrigger(s);
    Optional<String> action = s.text("action", "action = \"webhook\"");
    Optional<String> type = s.text("type", "type = \"webhook\"");
    if (action.isPresent() && type.isPresent()) {
      s.problem("type", "both `action` and `type` are set", "keep only `action`");
    }
    action = action.or(() -> type);
    Settings.Builder settings = Settings.builder(s.location);
    boolean hasUrl = readTarget(s, settings);
    if (action.isEmpty() && !s.has("action") && !s.has("type")) {
      s.problemAt(s.location, "action", "missing required key `action`",
          hasUrl ? "add action = \"webhook\"" : "add action = \"webhook\" (or slack, publish, sql, handler)");
    }
    Optional<String> condition = readCondition(s, "condition");
    RetryPolicy retry = readRetry(s, RetryPolicy.ofDefaults());
    boolean synchronous = s.bool("synchronous").orElse(false);
    Duration syncTimeout = s.integer("synchronous_timeout_ms", 1, Long.MAX_VALUE, "synchronous_timeout_ms = 5000")
        .map(Duration::ofMillis).orElse(HandlerConfig.DEFAULT_SYNCHRONOUS_TIMEOUT);
    Order order = readOrdering(s, Order.NONE);
    for (String k : s.passOn(HANDLER_KEYS)) {
      Object v = s.settingsValue(k);
      if (v != null) {
        settings.put(k, v, s.loc(k), s.written(k));
      }
    }
    Settings built = settings.build();
    action.ifPresent(a -> requireTarget(s, a, built));
    boolean unique = name.isPresent() && claim(s, "name", name.get());
    if (name.isEmpty() || !unique || trigger == null || action.isEmpty()) {
      return;
    }
    build(s, out, name.get(), trigger, action.get(), built, condition.orElse(null), retry, synchronous, syncTimeout, order);
  }

  private Trigger readHandlerTrigger(Section s) {
    Optional<String> event = s.text("event", "event = \"user.created\"");
    Optional<String> table = s.text("table", "table = \"tb_user\"");
    Optional<String> operation = s.text("operation", "operation = \"INSERT\"");
    if (!s.has("event") && !s.has("table")) {
      s.problemAt(s.location, "event", "missing required key `event`",
          "add event = \"user.created\" (an event name), or table = \"tb_user\" with event = \"INSERT\"");
      return null;
    }
    if (event.isEmpty() && s.has("event") || table.isEmpty() && s.has("table")
        || operation.isEmpty() && s.has("operation")) {
      return null;
    }
    Optional<Operation> op = Optional.empty();
    if (operation.isPresent()) {
      op = parseOperation(s, "operation", operation.get());
      if (op.isEmpty()) {
        return null;
      }
      if (event.isPresent()) {
        s.problem("operation", "both `event` and `operation` are set", "keep only one of them");
        return null;
      }
    }
    if (event.isPresent()) {
      String e = event.get().trim();
      if (isOperation(e)) {
        if (table.isEmpty()) {
          s.problem("event", "`event = \"" + e + "\"` is an operation, so the handler also needs a `table`",
              "add table = \"tb_...\", or use an event name such as user.created");
          return null;
        }
        return Trigger.table(table.get(), Operation.parse(e).orElseThrow());
      }
      if (table.isPresent()) {
        s.problem("table", "`table` only goes with event = INSERT, UPDATE or DELETE",
            "remove `table` (the event name already says which table), or set event to an operation");
        return null;
      }
      if (!NO_SPACE.matcher(e).matches() || e.isEmpty()) {
        s.problem("event", "event name must not contain spaces", "write it like user.created");
        return null;
      }
      return Trigger.event(e);
    }
    if (table.isPresent()) {
      return op.map(o -> Trigger.table(table.get(), o)).orElseGet(() -> Trigger.anyOperation(table.get()));
    }
    return null;
  }

  private static boolean isOperation(String s) {
    return Operation.parse(s).isPresent();
  }

  private Optional<Operation> parseOperation(Section s, String key, String value) {
    Optional<Operation> op = Operation.parse(value);
    if (op.isEmpty()) {
      String shown = s.wasExpanded(key) ? "(the value of `" + key + "`)" : "`" + value + "`";
      s.problem(key, "unknown operation " + shown, s.wasExpanded(key) ? "expected one of: INSERT, UPDATE, DELETE"
          : internalHint(value, OPERATIONS));
    }
    return op;
  }

  private static String internalHint(String value, List<String> candidates) {
    return dev.fraiseql.observers.internal.DidYouMean.hint(value, candidates);
  }

  /** Maps {@code webhook_url} / {@code url_env} / {@code url} to settings key {@code url}. */
  private boolean readTarget(Section s, Settings.Builder settings) {
    List<String> given = new ArrayList<>();
    for (String k : TARGET_KEYS) {
      if (s.has(k)) {
        given.add(k);
      }
    }
    if (given.size() > 1) {
      s.problem(given.get(1), "both `" + given.get(0) + "` and `" + given.get(1) + "` are set",
          "keep only one: `url_env` names a variable holding the URL, `webhook_url` is the URL itself");
      for (String k : given) {
        s.raw(k);
      }
      return true;
    }
    if (given.isEmpty()) {
      return false;
    }
    String k = given.get(0);
    if (k.equals("url_env")) {
      Optional<String> var = s.text("url_env", "url_env = \"WEBHOOK_URL\"");
      if (var.isEmpty()) {
        return true;
      }
      String name = var.get().trim();
      if (!EnvExpander.validName(name)) {
        s.problem("url_env", "`url_env` must name an environment variable", "write url_env = \"USER_CREATED_WEBHOOK_URL\"");
        return true;
      }
      Optional<String> value = ctx.env.apply(name);
      if (value == null || value.isEmpty()) {
        s.problem("url_env", "environment variable " + name + " (named by `url_env` in " + s.label + ") is not set",
            "set " + name + " to the webhook URL, or write webhook_url = \"https://...\"");
        return true;
      }
      String written = "${" + name + "}";
      if (httpTarget(s)) {
        ConfigUrls.check(value.get(), true, ConfigUrls.HTTP, "url_env", written, s.loc("url_env"))
            .ifPresent(ctx.problems::add);
      }
      settings.put("url", value.get(), s.loc("url_env"), written);
      return true;
    }
    s.text(k, k + " = \"https://hooks.example.com/fraiseql\"").ifPresent(v -> {
      if (httpTarget(s)) {
        checkUrl(s, k, v, ConfigUrls.HTTP);
      }
      settings.put("url", v, s.loc(k), s.written(k));
    });
    return true;
  }

  /**
   * Whether the section's URL is an HTTP endpoint: its action is {@code webhook} or {@code slack}, or not
   * given (a third-party action's {@code url} is that action's to check).
   */
  private static boolean httpTarget(Section s) {
    for (String k : List.of("action", "type")) {
      Object a = s.table.get(List.of(k));
      if (a instanceof String) {
        String t = ((String) a).trim().toLowerCase(Locale.ROOT);
        return t.equals("webhook") || t.equals("slack");
      }
    }
    return true;
  }

  /** The loader knows what webhook, slack and publish need; other actions check their own settings. */
  private void requireTarget(Section s, String action, Settings settings) {
    String a = action.trim().toLowerCase(Locale.ROOT);
    if ((a.equals("webhook") || a.equals("slack")) && !settings.has("url") && !anyTargetKey(s)) {
      s.problemAt(s.location, "webhook_url", "`" + action + "` action has no target URL",
          "add webhook_url = \"https://...\" or url_env = \"VAR_NAME\"");
    }
    if (a.equals("publish") && !settings.has("subject")) {
      s.problemAt(s.location, "subject", "`publish` action has no subject", "add subject = \"fraiseql.order.created\"");
    }
  }

  private static boolean anyTargetKey(Section s) {
    for (String k : TARGET_KEYS) {
      if (s.has(k)) {
        return true;
      }
    }
    return false;
  }

  private Optional<String> readCondition(Section s, String key) {
    Optional<String> c = s.string(key, key + " = \"status == 'published'\"");
    if (c.isEmpty()) {
      return c;
    }
    if (c.get().isBlank()) {
      return Optional.empty();
    }
    try {
      ConditionCompiler.compile(c.get());
      return c;
    } catch (ConditionSyntaxException e) {
      if (s.wasExpanded(key)) {
        s.problem(key, "invalid condition: after expanding ${...} it does not parse at position " + e.position(),
            CONDITION_FIX);
      } else {
        s.problemAt(s.loc(key, e.position()), key, "invalid condition: " + e.reason() + " (position "
            + e.position() + " of `" + key + "` in " + s.label + ")", e.hint().orElse(CONDITION_FIX));
      }
      return Optional.empty();
    }
  }

  private RetryPolicy readRetry(Section s, RetryPolicy base) {
    RetryPolicy.Builder r = RetryPolicy.from(base);
    s.integer("max_attempts", 1, 100, "max_attempts = 3").ifPresent(v -> r.maxAttempts(v.intValue()));
    s.oneOf("backoff_strategy", BACKOFFS, "backoff_strategy").flatMap(BackoffStrategy::parse).ifPresent(r::backoff);
    Optional<Long> initial = s.integer("initial_delay_ms", 0, 86_400_000L, "initial_delay_ms = 1000");
    Optional<Long> max = s.integer("max_delay_ms", 0, 86_400_000L, "max_delay_ms = 60000");
    initial.ifPresent(v -> r.initialDelay(Duration.ofMillis(v)));
    max.ifPresent(v -> r.maxDelay(Duration.ofMillis(v)));
    s.number("jitter", 0, 1, "jitter = 0.2").ifPresent(r::jitter);
    s.integer("timeout_ms", 1, 86_400_000L, "timeout_ms = 30000").ifPresent(v -> r.attemptTimeout(Duration.ofMillis(v)));
    long initialMs = initial.orElse(base.initialDelay().toMillis());
    long maxMs = max.orElse(base.maxDelay().toMillis());
    if ((s.has("initial_delay_ms") || s.has("max_delay_ms")) && maxMs < initialMs) {
      String key = s.has("max_delay_ms") ? "max_delay_ms" : "initial_delay_ms";
      s.problem(key, "`max_delay_ms` (" + maxMs + (max.isPresent() ? "" : ", the default") + ") is less than "
          + "`initial_delay_ms` (" + initialMs + (initial.isPresent() ? "" : ", the default") + ")",
          "raise max_delay_ms or lower initial_delay_ms");
      return base;
    }
    try {
      return r.build();
    } catch (IllegalArgumentException e) {
      s.problemAt(s.location, "", "invalid retry settings: " + e.getMessage(), "check the retry keys");
      return base;
    }
  }

  /** A section's {@code ordering} and {@code ordering_key}. */
  private static final class Order {
    static final Order NONE = new Order(Ordering.NONE, null);
    final Ordering ordering;
    final String key;

    Order(Ordering ordering, String key) {
      this.ordering = ordering;
      this.key = key;
    }
  }

  /**
   * Reads {@code ordering} and {@code ordering_key}; what is not written comes from {@code base} (a rule's,
   * for its actions). An {@code ordering_key} with ordering {@code none} is a problem: it would do nothing.
   */
  private Order readOrdering(Section s, Order base) {
    Ordering ordering = s.oneOf("ordering", ORDERINGS, "ordering").flatMap(Ordering::parse).orElse(base.ordering);
    String key = base.key;
    Optional<String> k = s.text("ordering_key", "ordering_key = \"customer_id\"");
    if (k.isPresent()) {
      try {
        OrderingKey.compile(k);
        key = k.get().trim();
      } catch (ConditionSyntaxException e) {
        s.problemAt(s.loc("ordering_key", e.position()), "ordering_key", "invalid ordering_key: " + e.reason()
            + " (position " + e.position() + " of `ordering_key` in " + s.label + ")",
            "name one field path, as in conditions: customer_id, new.customer_id, data.new.customer_id or context.tenant_id");
        return base;
      }
      if (s.has("ordering") && ordering == Ordering.NONE) {
        s.problem("ordering_key", "`ordering_key` is set but `ordering` is \"none\", so it would do nothing",
            "set ordering = \"key\" to deliver each key's events in commit order, or remove ordering_key");
        return base;
      }
      if (!s.has("ordering") && ordering == Ordering.NONE) {
        s.problem("ordering_key", "`ordering_key` is set without `ordering = \"key\"`, so it would do nothing "
            + "(the default is ordering = \"none\")", "add ordering = \"key\" next to it");
        return base;
      }
    }
    return new Order(ordering, ordering == Ordering.NONE ? null : key);
  }

  private void build(Section s, ObserversConfig.Builder out, String name, Trigger trigger, String action,
      Settings settings, String condition, RetryPolicy retry, boolean synchronous, Duration syncTimeout, Order order) {
    try {
      out.handler(HandlerConfig.builder(name).trigger(trigger).action(action.trim()).settings(settings)
          .condition(condition).retry(retry).synchronous(synchronous).synchronousTimeout(syncTimeout)
          .ordering(order.ordering).orderingKey(order.key).location(s.location).build());
    } catch (IllegalArgumentException | NullPointerException e) {
      s.problemAt(s.location, "", "invalid handler: " + e.getMessage(), "check the keys of " + s.label);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // rules

  private void readRule(Section s, int index, ObserversConfig.Builder out) {
    Optional<String> table = s.text("table", "table = \"tb_order\"");
    if (!s.has("table")) {
      s.problemAt(s.location, "table", "missing required key `table`", "add table = \"tb_order\"");
    }
    Optional<Operation> op = Optional.empty();
    boolean triggerOk = table.isPresent();
    if (s.has("event") && s.has("operation")) {
      s.raw("operation");
      s.problem("operation", "both `event` and `operation` are set", "keep only `event`");
      triggerOk = false;
    }
    String opKey = s.has("event") ? "event" : "operation";
    Optional<String> event = s.text(opKey, opKey + " = \"INSERT\"");
    if (event.isPresent()) {
      Optional<Operation> parsed = Operation.parse(event.get());
      if (parsed.isEmpty()) {
        String shown = s.wasExpanded(opKey) ? "(the value of `" + opKey + "`)" : "`" + event.get() + "`";
        boolean looksLikeName = event.get().contains(".");
        s.problem(opKey, "unknown operation " + shown + " in a rule", looksLikeName
            ? "a rule's event is INSERT, UPDATE or DELETE; for an event name such as " + event.get()
                + " use [[observers.handlers]]" : internalHint(event.get(), OPERATIONS));
        triggerOk = false;
      }
      op = parsed;
    } else if (s.has(opKey)) {
      triggerOk = false;
    }
    Optional<String> subject = s.text("subject", "subject = \"fraiseql.order.created\"");
    Optional<String> ruleName = s.text("name", "name = \"order-created\"");
    Optional<String> condition = readCondition(s, "condition");
    RetryPolicy retry = readRetry(s, RetryPolicy.ofDefaults());
    boolean synchronous = s.bool("synchronous").orElse(false);
    Duration syncTimeout = s.integer("synchronous_timeout_ms", 1, Long.MAX_VALUE, "synchronous_timeout_ms = 5000")
        .map(Duration::ofMillis).orElse(HandlerConfig.DEFAULT_SYNCHRONOUS_TIMEOUT);
    Order order = readOrdering(s, Order.NONE);
    TomlArray actions = null;
    Object a = s.raw("actions");
    String actionHeader = seedForm ? "[[observers.actions]]" : "[[observers.rules.actions]]";
    if (a instanceof TomlArray && allTables((TomlArray) a)) {
      actions = (TomlArray) a;
    } else if (a != null) {
      s.problem("actions", "`actions` must be an array of tables", "write each action as " + actionHeader);
    }
    s.rejectUnread(RULE_KEYS);
    boolean actionsMalformed = a != null && actions == null;
    if (!s.has("subject") && !actionsMalformed && (actions == null || actions.isEmpty())) {
      s.problemAt(s.location, "subject", "rule on " + table.orElse("its table") + " has no target",
          "add subject = \"fraiseql.order.created\" to publish it, or an " + actionHeader + " entry with type = \"webhook\"");
    }
    Trigger trigger = null;
    if (triggerOk && table.isPresent()) {
      trigger = op.isPresent() ? Trigger.table(table.get(), op.get()) : Trigger.anyOperation(table.get());
    }
    String base = ruleName.isPresent() ? ruleName.get()
        : table.orElse("rule") + op.map(o -> "." + o.name().toLowerCase(Locale.ROOT)).orElse("");
    if (subject.isPresent()) {
      String name;
      if (ruleName.isPresent()) {
        name = claim(s, "name", ruleName.get()) ? ruleName.get() : null;
      } else {
        name = generate(subject.get(), s.location);
      }
      if (name != null && trigger != null) {
        Settings settings = Settings.builder(s.location).put("subject", subject.get(), s.loc("subject")).build();
        build(s, out, name, trigger, "publish", settings, condition.orElse(null), retry, synchronous, syncTimeout, order);
      }
    }
    for (int k = 0; actions != null && k < actions.size(); k++) {
      String label = actionHeader + " #" + (k + 1) + " of " + s.label;
      Section as = new Section(ctx, actions.getTable(k), label, actions.inputPositionOf(k));
      readRuleAction(as, trigger, base, condition, retry, synchronous, syncTimeout, order, out);
    }
  }

  private static boolean allTables(TomlArray a) {
    for (int i = 0; i < a.size(); i++) {
      if (!(a.get(i) instanceof TomlTable)) {
        return false;
      }
    }
    return true;
  }

  private void readRuleAction(Section s, Trigger trigger, String base, Optional<String> ruleCondition,
      RetryPolicy ruleRetry, boolean ruleSync, Duration ruleSyncTimeout, Order ruleOrder, ObserversConfig.Builder out) {
    Optional<String> type = s.text("type", "type = \"webhook\"");
    if (!s.has("type")) {
      s.problemAt(s.location, "type", "missing required key `type`", "add type = \"webhook\" (or slack, publish, sql)");
    }
    Optional<String> name = s.text("name", "name = \"notify-crm\"");
    Settings.Builder settings = Settings.builder(s.location);
    readTarget(s, settings);
    Optional<String> own = readCondition(s, "condition");
    String condition = ruleCondition.orElse(null);
    if (own.isPresent()) {
      condition = condition == null ? own.get() : "(" + condition + ") AND (" + own.get() + ")";
      try {
        ConditionCompiler.compile(condition);
      } catch (ConditionSyntaxException e) {
        s.problem("condition", "the rule's condition and this action's condition together are too large: "
            + e.reason(), "simplify one of them");
      }
    }
    RetryPolicy retry = readRetry(s, ruleRetry);
    boolean synchronous = s.bool("synchronous").orElse(ruleSync);
    Duration syncTimeout = s.integer("synchronous_timeout_ms", 1, Long.MAX_VALUE, "synchronous_timeout_ms = 5000")
        .map(Duration::ofMillis).orElse(ruleSyncTimeout);
    Order order = readOrdering(s, ruleOrder);
    for (String k : s.passOn(ACTION_KEYS)) {
      Object v = s.settingsValue(k);
      if (v != null) {
        settings.put(k, v, s.loc(k), s.written(k));
      }
    }
    Settings built = settings.build();
    type.ifPresent(t -> requireTarget(s, t, built));
    if (type.isEmpty()) {
      return;
    }
    String handlerName;
    if (name.isPresent()) {
      handlerName = claim(s, "name", name.get()) ? name.get() : null;
    } else {
      handlerName = generate(base + "." + type.get().trim(), s.location);
    }
    if (handlerName == null || trigger == null) {
      return;
    }
    build(s, out, handlerName, trigger, type.get(), built, condition, retry, synchronous, syncTimeout, order);
  }

  // ---------------------------------------------------------------------------------------------
  // subscriptions

  private void readSubscription(Section s, ObserversConfig.Builder out) {
    Optional<String> subject = s.text("subject", "subject = \"fraiseql.order.created\"");
    if (!s.has("subject")) {
      s.problemAt(s.location, "subject", "missing required key `subject`", "add subject = \"fraiseql.order.created\"");
    }
    Optional<String> handler = s.text("handler", "handler = \"fn_reserve_inventory\"");
    if (!s.has("handler")) {
      s.problemAt(s.location, "handler", "missing required key `handler`",
          "add handler = \"fn_reserve_inventory\" (a SQL function or a handler registered with the engine builder)");
    }
    Optional<String> durable = s.text("durable", "durable = \"inventory\"");
    if (durable.isPresent() && !DURABLE.matcher(durable.get()).matches()) {
      s.problem("durable", "`durable` may hold only letters, digits, _ and -", "write durable = \"inventory-service\"");
      durable = Optional.empty();
    }
    Optional<String> condition = readCondition(s, "condition");
    RetryPolicy retry = readRetry(s, RetryPolicy.ofDefaults());
    Order order = readOrdering(s, Order.NONE);
    if (order.ordering == Ordering.KEY) {
      s.problem("ordering", SUBSCRIPTION_ORDERING, SUBSCRIPTION_ORDERING_FIX);
      order = Order.NONE;
    }
    Settings.Builder settings = Settings.builder(s.location);
    readTarget(s, settings); // a subscription with action = "webhook" takes webhook_url / url_env like a handler
    for (String k : s.passOn(SUBSCRIBE_KEYS)) {
      Object v = s.settingsValue(k);
      if (v != null) {
        settings.put(k, v, s.loc(k), s.written(k));
      }
    }
    if (subject.isEmpty() || handler.isEmpty()) {
      return;
    }
    try {
      out.subscription(SubscriptionConfig.builder(subject.get(), handler.get()).durable(durable.orElse(null))
          .condition(condition.orElse(null)).retry(retry).ordering(order.ordering).orderingKey(order.key)
          .settings(settings.build()).location(s.location).build());
    } catch (IllegalArgumentException e) {
      s.problemAt(s.location, "", "invalid subscription: " + e.getMessage(), "check the keys of " + s.label);
    }
  }

  @SafeVarargs
  private static List<String> concat(List<String>... lists) {
    List<String> out = new ArrayList<>();
    for (List<String> l : lists) {
      out.addAll(l);
    }
    return List.copyOf(out);
  }
}
