package dev.fraiseql.observers.internal.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.SubscriptionConfig;
import dev.fraiseql.observers.internal.EventJson;
import dev.fraiseql.observers.internal.JsonValues;
import dev.fraiseql.observers.spi.Action;
import dev.fraiseql.observers.spi.ActionContext;
import dev.fraiseql.observers.spi.ActionProvider;
import dev.fraiseql.observers.spi.ActionResult;
import dev.fraiseql.observers.testkit.CapturedStderr;
import dev.fraiseql.observers.internal.condition.Condition;
import dev.fraiseql.observers.internal.condition.ConditionCompiler;
import dev.fraiseql.observers.internal.condition.ConditionSyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Thousands of malformed configurations and conditions, generated from the seeds with a fixed seed:
 * only {@link ObserverConfigException} / {@link ConditionSyntaxException} may come out, never another
 * exception, and nothing hangs. Structured mutations (issue 16) put variables into every key, bad URLs into
 * every URL key and unknown keys into every section, and build every config that loads: no variable's value
 * in a message, a {@code toString()} or the log, never an engine from a config with an unknown key or a bad
 * URL. Deep and cyclic rows are refused by the event builder or serialize.
 *
 * <p>CI runs 1000 of each; the full run is
 * {@code mvn -pl fraiseql-observers-core verify -DskipITs -Dtest=ConfigFuzzTest -Dfraiseql.fuzz.configs=20000}.
 */
class ConfigFuzzTest {
  private static final long SEED = Long.getLong("fraiseql.fuzz.seed", 0x5EED_F00DL);
  /** Mutated configs per test (character-level and structured); CI runs the default, {@code -Dfraiseql.fuzz.configs=20000} once. */
  private static final int CONFIGS = Integer.getInteger("fraiseql.fuzz.configs", 1000);
  private static final int CONDITIONS = 4000;
  /** Every variable's value holds this, so a leak into a message or a log line is caught. */
  private static final String SECRET = "s3cr3t";

  private static final List<String> SEEDS = List.of("seed000-nats-rules.toml", "seed000-webhook-rule.toml",
      "seed000-inventory-subscribe.toml", "seed001-backend.toml", "seed001-handler.toml",
      "seed001-step1-welcome-email.toml", "seed001-step2-comment-notification.toml",
      "seed001-step3-update-post-stats.toml", "seed001-step5-multiple.toml", "seed001-synchronous.toml",
      "seed001-effectively-once.toml");

  private static final String RICH = String.join("\n",
      "[observers]",
      "backend = \"redis\"",
      "redis_url = \"redis://${HOST}:6379\"",
      "max_in_flight = 100",
      "overflow_policy = \"reject\"",
      "[observers.redis]",
      "stream = \"s\"",
      "[[observers.rules]]",
      "table = \"tb_post\"",
      "event = \"UPDATE\"",
      "condition = \"CHANGED_TO(status, 'published') AND views > 10\"",
      "subject = \"fraiseql.post.published\"",
      "[[observers.rules.actions]]",
      "type = \"webhook\"",
      "webhook_url = \"https://${HOST}/hook\"",
      "headers = { X-A = \"1\", X-B = [\"x\", { y = 2 }] }",
      "body_template = \"\"\"",
      "{\"id\": \"{{data.new.id}}\"}",
      "\"\"\"",
      "[[observers.handlers]]",
      "name = \"h\"",
      "event = \"post.updated\"",
      "action = \"webhook\"",
      "url_env = \"HOOK\"",
      "condition = 'has_field(\"x\") || !(a.b.c >= -1.5e3)'",
      "max_attempts = 4",
      "jitter = 0.5",
      "[[observers.subscribe]]",
      "subject = \"fraiseql.>\"",
      "handler = \"fn_x\"",
      "durable = \"d\"",
      "");

  private static final String[] JUNK = {"[", "]", "[[", "]]", "\"", "'", "\"\"\"", "'''", "${", "$${", "}", "{", "=",
      "==", ",", ".", "#", "\\", "\\u", "\\U0010FFFF", "\n", "\r\n", "\t", "\u0000", "\u00e9", "\uD83D\uDE00", "\uD800",
      "[[observers]]", "[[observers.actions]]", "[observers]", "[[observers.handlers]]", "[[observers.rules]]",
      "[[observers.subscribe]]", "[observers.nats]", "name = \"dup\"", "event = \"INSERT\"", "table = 5",
      "condition = \"(((\"", "condition = \"x == \"", "max_attempts = 999999999999999999999", "jitter = nan",
      "x = inf", "d = 1979-05-27T07:32:00Z", "t = 07:32:00", "a.b.c = 1", "actions = 5", "handlers = []",
      "url_env = \"\"", "webhook_url = \"${}\"", "type = \"webhook\"", "true", "0x1F", "-", "+", "1e999"};

  private static final String[] COND_JUNK = {"(", ")", "'", "\"", "\\", "==", "=", "!=", "<>", "<", "<=", ">", ">=",
      "!", "&&", "||", "&", "|", "AND", "OR", "NOT", "and", "not", "null", "true", "false", ",", ".", "..", "-", "1e9",
      "1.", ".5", "-.", "CHANGED(", "has_field('", "changed_to(x,", "new.", "old.", "context.", "table.x", "event",
      "\u0000", "\uD83D\uDE00", "\\u00", "\\uZZZZ", "99999999999999999999999999", "x()", "a.b()", "System.exit(0)"};

  private static final Map<String, String> VARS = Map.ofEntries(Map.entry("HOST", "s3cr3t-host"),
      Map.entry("HOOK", "https://u:s3cr3t-pw@s3cr3t-hook.example/h?t=s3cr3t-q"), Map.entry("NATS_URL", "nats://s3cr3t-nats:4222"),
      Map.entry("USER_CREATED_WEBHOOK_URL", "https://s3cr3t-u.example/u"), Map.entry("WELCOME_EMAIL_SERVICE_URL",
          "https://s3cr3t-w.example/w"), Map.entry("WELCOME_EMAIL_WEBHOOK_URL", "https://s3cr3t-w.example/w"),
      Map.entry("EVENT_BUS_INGEST_URL", "https://s3cr3t-e.example/e"), Map.entry("NOTIFICATION_SERVICE_URL",
          "https://s3cr3t-n.example/n"), Map.entry("PROJECTION_SERVICE_URL", "https://s3cr3t-p.example/p"),
      Map.entry("STRIPE_WEBHOOK_URL", "https://s3cr3t-s.example/s"), Map.entry("TOKEN", "s3cr3t-XYZ"),
      Map.entry("BAD_URL", "s3cr3t not a url"), Map.entry("RTL_URL", "https://s3cr3t\u202E.example/"),
      Map.entry("SECRET_URL", "https://user:s3cr3t-PASS@s3cr3t-host.example/hook?token=s3cr3t-TOK"));
  private static final Function<String, Optional<String>> ENV = k -> Optional.ofNullable(VARS.get(k));

  private static final List<ObservedEvent> EVENTS = List.of(
      ObservedEvent.insert("tb_post", Map.of("status", "published", "views", 11, "a", Map.of("b", Map.of("c", 0)))),
      ObservedEvent.update("tb_post", Map.of("status", "published"), Map.of("status", "draft")),
      ObservedEvent.delete("tb_post", Map.of("status", "gone")));

  @Test
  void malformedConfigsOnlyEverRaiseTheConfigException() {
    List<String> bases = new ArrayList<>();
    for (String s : SEEDS) {
      bases.add(TomlConfigLoaderTest.seed(s));
    }
    bases.add(RICH);
    Random random = new Random(SEED);
    int[] outcomes = new int[2];
    assertTimeoutPreemptively(Duration.ofSeconds(60 + CONFIGS / 20), () -> {
      for (int i = 0; i < CONFIGS; i++) {
        String input = mutate(bases.get(random.nextInt(bases.size())), random, JUNK);
        outcomes[loadOne(input)]++;
      }
      // pathological shapes
      for (String input : List.of("a = " + "[".repeat(20_000), "a = " + "{ b = ".repeat(5_000),
          "[" + "a.".repeat(5_000) + "b]", "[[observers]]\n".repeat(1_000) + "table = \"t\"",
          "x = \"" + "\\".repeat(100_000) + "\"", "[[observers.handlers]]\ncondition = \"" + "(".repeat(10_000) + "\"",
          "[[observers.handlers]]\ncondition = \"" + "NOT ".repeat(3_000) + "a\"",
          "[observers]\nnats_url = \"" + "${A}".repeat(10_000) + "\"", "\"\"\"".repeat(10_000), "\uFEFF[observers]\n",
          "[observers]\r\nbackend = \"nats\"\r\n")) {
        outcomes[loadOne(input)]++;
      }
    });
    // the mutations must actually exercise both paths
    assertThat(outcomes[0]).as("loaded").isGreaterThan(CONFIGS / 20);
    assertThat(outcomes[1]).as("rejected").isGreaterThan(CONFIGS / 2);
  }

  /** 0 = loaded, 1 = rejected with an ObserverConfigException. */
  private static int loadOne(String input) {
    try {
      ObserversConfig c = TomlConfigLoader.load(input, "fuzz.toml", ENV);
      for (HandlerConfig h : c.handlers()) {
        if (h.condition().isPresent()) {
          Condition cond = ConditionCompiler.compile(h.condition().get());
          EVENTS.forEach(cond::test);
        }
      }
      return 0;
    } catch (ObserverConfigException e) {
      assertThat(e.problems()).isNotEmpty();
      assertThat(e.getMessage()).doesNotContain(SECRET);
      return 1;
    } catch (Throwable t) {
      throw new AssertionError("unexpected " + t + " for input:\n" + abbreviate(input), t);
    }
  }

  @Test
  void malformedConditionsOnlyEverRaiseTheSyntaxException() {
    List<String> bases = new ArrayList<>();
    ConditionCompilerCases.valid().forEach(bases::add);
    Random random = new Random(SEED + 1);
    int[] outcomes = new int[2];
    assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
      for (int i = 0; i < CONDITIONS; i++) {
        String input = i % 10 == 0 ? randomTokens(random) : mutate(bases.get(random.nextInt(bases.size())), random,
            COND_JUNK);
        outcomes[compileOne(input)]++;
      }
      for (String input : List.of("(".repeat(100_000), "!".repeat(100_000), "NOT ".repeat(1000) + "a",
          "a == 1 OR ".repeat(2000) + "b", "'" + "\\".repeat(4000), "x".repeat(5000), "a" + ".b".repeat(2000),
          "CHANGED(" + "(".repeat(3000), "(" + "a == 1) AND (".repeat(500) + "b)")) {
        outcomes[compileOne(input)]++;
      }
    });
    assertThat(outcomes[0]).as("compiled").isGreaterThan(100);
    assertThat(outcomes[1]).as("rejected").isGreaterThan(1000);
  }

  /** 0 = compiled (and evaluated), 1 = rejected with a ConditionSyntaxException with a sane position. */
  private static int compileOne(String input) {
    try {
      Condition c = ConditionCompiler.compile(input);
      EVENTS.forEach(c::test);
      return 0;
    } catch (ConditionSyntaxException e) {
      assertThat(e.position()).as("position for %s", abbreviate(input)).isBetween(0, input.length());
      return 1;
    } catch (Throwable t) {
      throw new AssertionError("unexpected " + t + " for condition: " + abbreviate(input), t);
    }
  }

  private static String randomTokens(Random random) {
    StringBuilder b = new StringBuilder();
    int n = 1 + random.nextInt(12);
    for (int k = 0; k < n; k++) {
      b.append(COND_JUNK[random.nextInt(COND_JUNK.length)]);
      if (random.nextBoolean()) {
        b.append(' ');
      }
    }
    return b.toString();
  }

  static String mutate(String base, Random random, String[] junk) {
    StringBuilder s = new StringBuilder(base);
    int edits = 1 + random.nextInt(4);
    for (int e = 0; e < edits; e++) {
      int at = s.length() == 0 ? 0 : random.nextInt(s.length());
      switch (random.nextInt(7)) {
        case 0: // delete a character
          if (s.length() > 0) {
            s.deleteCharAt(at);
          }
          break;
        case 1: // duplicate a character
          if (s.length() > 0) {
            s.insert(at, s.charAt(at));
          }
          break;
        case 2: // swap two neighbours
          if (at + 1 < s.length()) {
            char c = s.charAt(at);
            s.setCharAt(at, s.charAt(at + 1));
            s.setCharAt(at + 1, c);
          }
          break;
        case 3: // delete a span
          if (s.length() > 0) {
            s.delete(at, Math.min(s.length(), at + 1 + random.nextInt(20)));
          }
          break;
        case 4: // duplicate a line or a span
          int end = Math.min(s.length(), at + 1 + random.nextInt(60));
          s.insert(at, s.substring(at, end));
          break;
        case 5: // huge nesting
          String open = random.nextBoolean() ? "(" : "[";
          s.insert(at, open.repeat(1 + random.nextInt(random.nextInt(8) == 0 ? 300 : 30)));
          break;
        default: // a junk token
          s.insert(at, junk[random.nextInt(junk.length)]);
          break;
      }
    }
    return s.toString();
  }

  private static String abbreviate(String s) {
    return s.length() > 600 ? s.substring(0, 600) + "... (" + s.length() + " chars)" : s;
  }

  // ---------------------------------------------------------------------------------------------
  // structured mutations (issue 16): env references in every key, bad URLs in every URL key, unknown
  // keys in every section; every loaded config is also built into an engine

  private static final String[] UNKNOWN_KEYS = {"foo = 1", "\"ключ\" = 1", "nested = [[[1]]]",
      "synchronous_timeout_mss = -inf", "\"a\u202Eb\" = 2", "max_atempts = 3", "subjet = \"x\"", "ack_wiat_ms = 5",
      "hadler = \"x\"", "webhook_ur = \"https://x.example/\"", "x = \"${TOKEN}\"", "foo = { bar = [1, [2]] }"};
  private static final String[] BAD_URLS = {"nats://$yNATS_URL}", "https://loc\u202Ealhost/x", "\u0000", "://",
      "http://h:99999/", "${BAD_URL}", "${RTL_URL}", "x${TOKEN} y", "redis://[::1", "  ", "nats://h:4222,,nats://\u00e9"};
  private static final Pattern URL_LINE = Pattern.compile("(?m)^(nats_url|redis_url|database_url|webhook_url) = .*$");
  private static final Pattern STRING_LINE = Pattern.compile("(?m)^([A-Za-z_]+) = \"[^\"\\n]*\"");
  private static final Pattern HEADER = Pattern.compile("(?m)^\\[\\[?observers[^\\]]*\\]\\]?.*$");
  private static final Pattern BACKEND = Pattern.compile("(?m)^backend = .*$");

  /** Action types the seeds use, as a module would declare them (keys only: this fuzz never delivers). */
  private static final class KeyedActions implements ActionProvider {
    private final String name;
    private final Set<String> keys;

    KeyedActions(String name, String... keys) {
      this.name = name;
      this.keys = Set.of(keys);
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public Set<String> settingKeys() {
      return keys;
    }

    @Override
    public Action create(ActionContext context) {
      return d -> CompletableFuture.completedFuture(ActionResult.delivered());
    }
  }

  /** One structured mutation: the input, and what the loader and the engine must do with it. */
  private record Case(String input, String kind, boolean mustFail) {}

  private static Case structured(String base, Random random) {
    // the engine in this module has the in-memory backend only: build the seeds on it
    String b = BACKEND.matcher(base).replaceAll("backend = \"in-memory\"");
    switch (random.nextInt(4)) {
      case 0: { // a variable in a random string key (the value never shows in a message)
        List<int[]> spans = spans((random.nextBoolean() ? STRING_LINE : URL_LINE).matcher(b));
        if (spans.isEmpty()) {
          return new Case(b, "none", false);
        }
        int[] sp = spans.get(random.nextInt(spans.size()));
        String line = b.substring(sp[0], sp[1]);
        String key = line.substring(0, line.indexOf(' '));
        String var = new String[] {"TOKEN", "SECRET_URL", "HOOK", "BAD_URL"}[random.nextInt(4)];
        if (key.equals("webhook_url") || key.equals("nats_url")) { // a good URL from the environment: it builds
          var = key.equals("nats_url") ? "NATS_URL" : "HOOK";
        }
        String value = random.nextBoolean() ? "${" + var + "}" : "x-${" + var + "}-y";
        if (key.endsWith("_url")) {
          value = "${" + var + "}";
        }
        return new Case(b.substring(0, sp[0]) + key + " = \"" + value + "\"" + b.substring(sp[1]), "env:" + key, false);
      }
      case 1: { // a bad URL in a URL key: never loads
        List<int[]> spans = spans(URL_LINE.matcher(b));
        if (spans.isEmpty()) {
          b = b + "\n[observers.nats]\nnats_url = \"nats://ok:4222\"\n";
          spans = spans(URL_LINE.matcher(b));
        }
        int[] sp = spans.get(random.nextInt(spans.size()));
        String line = b.substring(sp[0], sp[1]);
        String key = line.substring(0, line.indexOf(' '));
        String bad = BAD_URLS[random.nextInt(BAD_URLS.length)];
        return new Case(b.substring(0, sp[0]) + key + " = \"" + bad + "\"" + b.substring(sp[1]), "url:" + key, true);
      }
      case 2: { // an unknown key in a random section: never an engine
        List<int[]> headers = spans(HEADER.matcher(b));
        String unknown = UNKNOWN_KEYS[random.nextInt(UNKNOWN_KEYS.length)];
        if (headers.isEmpty()) {
          return new Case("[observers]\n" + unknown + "\n" + b, "unknown:[observers]", true);
        }
        int[] h = headers.get(random.nextInt(headers.size()));
        String header = b.substring(h[0], h[1]);
        if (header.startsWith("[observers.") && !header.startsWith("[observers.rules") && !header.startsWith("[observers.actions")) {
          // an unused backend table ([observers.redis] on the in-memory backend) is not read: pick [observers]
          return new Case("[observers]\n" + unknown + "\n" + b.replace("[observers]\n", ""), "unknown:[observers]", true);
        }
        return new Case(b.substring(0, h[1]) + "\n" + unknown + b.substring(h[1]), "unknown:" + header, true);
      }
      default: { // several at once
        Case first = structured(base, random);
        Case second = structured(first.input(), random);
        // a later mutation may rewrite a bad URL into a good one; an inserted unknown key stays unknown
        return new Case(second.input(), first.kind() + "+" + second.kind(),
            second.mustFail() || first.kind().startsWith("unknown"));
      }
    }
  }

  private static List<int[]> spans(Matcher m) {
    List<int[]> out = new ArrayList<>();
    while (m.find()) {
      out.add(new int[] {m.start(), m.end()});
    }
    return out;
  }

  @Test
  void structuredMutationsNeverLeakAVariableNorBuildAnEngineFromAnUnknownKey() throws Exception {
    List<String> bases = new ArrayList<>();
    for (String s : SEEDS) {
      bases.add(TomlConfigLoaderTest.seed(s));
    }
    bases.add(RICH);
    Random random = new Random(SEED + 2);
    Map<String, Integer> outcomes = new TreeMap<>();
    String log = CapturedStderr.during(() -> assertTimeoutPreemptively(Duration.ofSeconds(120 + CONFIGS / 10), () -> {
      for (int i = 0; i < CONFIGS; i++) {
        Case c = structured(bases.get(random.nextInt(bases.size())), random);
        String outcome = buildOne(c);
        outcomes.merge(c.kind().replaceAll(":.*", "") + " " + outcome, 1, Integer::sum);
      }
    }));
    assertThat(log).as("the log of %d builds", CONFIGS).doesNotContain(SECRET);
    // every kind of mutation was tried, and each outcome the assertions rely on happened
    assertThat(outcomes.keySet()).contains("env built", "env rejected at load", "url rejected at load",
        "unknown rejected at build");
    System.out.println("structured fuzz (" + CONFIGS + " configs): " + outcomes);
  }

  /** Loads and builds one case; "built", "rejected at load" or "rejected at build". */
  private static String buildOne(Case c) {
    ObserversConfig config;
    try {
      config = TomlConfigLoader.load(c.input(), "fuzz.toml", ENV);
    } catch (ObserverConfigException e) {
      assertThat(e.problems()).isNotEmpty();
      assertThat(e.getMessage()).as("message for %s", c.kind()).doesNotContain(SECRET);
      return "rejected at load";
    } catch (Throwable t) {
      throw new AssertionError("unexpected " + t + " for " + c.kind() + ":\n" + abbreviate(c.input()), t);
    }
    if (c.kind().startsWith("url") && !c.kind().contains("+")) {
      throw new AssertionError("a bad URL loaded (" + c.kind() + "):\n" + abbreviate(c.input()));
    }
    assertThat(config.toString()).doesNotContain(SECRET);
    for (HandlerConfig h : config.handlers()) {
      assertThat(h.toString()).doesNotContain(SECRET);
      assertThat(h.settings().toString()).doesNotContain(SECRET);
      for (String k : h.settings().keys()) {
        assertThat(h.settings().shown(k)).as("shown(%s)", k).doesNotContain(SECRET);
      }
    }
    for (SubscriptionConfig sc : config.subscriptions()) {
      assertThat(sc.toString()).doesNotContain(SECRET);
    }
    try {
      ObserverEngine.builder().config(config).env(ENV)
          .action(new KeyedActions("webhook", "url", "headers", "body_template", "signing", "signing_secret_env",
              "signing_secrets_env", "egress"))
          .action(new KeyedActions("slack", "url", "text", "channel"))
          .action(new KeyedActions("sql", "function", "database_url"))
          .handler("fn_reserve_inventory", e -> { }).handler("fn_x", e -> { }).handler("x", e -> { })
          .build().close();
    } catch (ObserverConfigException e) {
      assertThat(e.getMessage()).as("message for %s", c.kind()).doesNotContain(SECRET);
      return "rejected at build";
    } catch (Throwable t) {
      throw new AssertionError("unexpected " + t + " at build for " + c.kind() + ":\n" + abbreviate(c.input()), t);
    }
    if (c.mustFail()) {
      throw new AssertionError("an engine was built from " + c.kind() + ":\n" + abbreviate(c.input()));
    }
    return "built";
  }

  // ---------------------------------------------------------------------------------------------
  // deep and cyclic rows: refused at the builder with an IllegalArgumentException, or serialized

  @Test
  void deepAndCyclicRowsAreRefusedOrSerialize() {
    Random random = new Random(SEED + 3);
    int[] outcomes = new int[3];
    assertTimeoutPreemptively(Duration.ofSeconds(60 + CONFIGS / 50), () -> {
      for (int i = 0; i < CONFIGS; i++) {
        int depth = random.nextInt(8) == 0 ? 1 + random.nextInt(5_000) : JsonValues.MAX_DEPTH - 3 + random.nextInt(7);
        boolean cycle = random.nextInt(4) == 0;
        Object row = randomRow(random, depth, cycle);
        boolean attribute = random.nextBoolean();
        try {
          ObservedEvent.Builder b = ObservedEvent.builder().operation(Operation.INSERT).table("t");
          if (attribute) {
            b.newRow(Map.of("id", 1)).context(MutationContext.builder().attribute("a", row).build());
          } else {
            b.newRow(row);
          }
          ObservedEvent e = b.build();
          assertThat(cycle).as("a cyclic row was accepted").isFalse();
          assertThat(depth).as("a row nested %d deep was accepted", depth).isLessThanOrEqualTo(JsonValues.MAX_DEPTH);
          assertThat(EventJson.read(e.toJson()).newRow()).isEqualTo(e.newRow());
          outcomes[0]++;
        } catch (IllegalArgumentException ex) {
          if (cycle && depth <= JsonValues.MAX_DEPTH) {
            assertThat(ex.getMessage()).contains("contains itself");
            outcomes[1]++;
          } else if (cycle) { // deeper than the limit: whichever is met first on the way down
            assertThat(ex.getMessage()).containsAnyOf("contains itself", "nested more than");
            outcomes[2]++;
          } else {
            assertThat(depth).as("a row nested %d deep was refused: %s", depth, ex.getMessage())
                .isGreaterThan(JsonValues.MAX_DEPTH);
            assertThat(ex.getMessage()).contains("nested more than " + JsonValues.MAX_DEPTH + " levels deep");
            outcomes[2]++;
          }
        } catch (Throwable t) {
          throw new AssertionError("unexpected " + t + " for a row " + depth + " deep (cycle " + cycle + ")", t);
        }
      }
    });
    assertThat(outcomes[0]).as("accepted").isGreaterThan(CONFIGS / 10);
    assertThat(outcomes[1]).as("cycles refused").isGreaterThan(CONFIGS / 10);
    assertThat(outcomes[2]).as("too deep refused").isGreaterThan(CONFIGS / 10);
  }

  /** A map (the row) whose deepest branch is {@code depth} levels of maps and lists; with a cycle somewhere. */
  private static Map<String, Object> randomRow(Random random, int depth, boolean cycle) {
    List<Object> chain = new ArrayList<>();
    Map<String, Object> root = new LinkedHashMap<>();
    root.put("id", random.nextInt());
    chain.add(root);
    Object current = root;
    for (int level = 2; level <= depth; level++) {
      Object next = random.nextBoolean() ? new LinkedHashMap<String, Object>() : new ArrayList<Object>();
      if (current instanceof Map) {
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) current;
        m.put("k" + level, next);
        m.put("s" + level, "v");
      } else {
        @SuppressWarnings("unchecked")
        List<Object> l = (List<Object>) current;
        l.add(level);
        l.add(next);
      }
      chain.add(next);
      current = next;
    }
    if (cycle) {
      Object back = chain.get(random.nextInt(chain.size()));
      if (current instanceof Map) {
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) current;
        m.put("back", back);
      } else {
        @SuppressWarnings("unchecked")
        List<Object> l = (List<Object>) current;
        l.add(back);
      }
    }
    return root;
  }

  @Test
  void theRichMutationBaseIsValid() {
    assertThat(TomlConfigLoader.load(RICH, "rich.toml", ENV).handlers()).extracting(HandlerConfig::name)
        .containsExactly("fraiseql.post.published", "tb_post.update.webhook", "h");
  }

  /** The valid conditions of the condition test table, as mutation bases. */
  static final class ConditionCompilerCases {
    static List<String> valid() {
      return List.of("status == 'published'", "price == 100.00", "views >= 100 AND views < 100.5",
          "title < 'World' OR NOT active", "customer.address.zip == '75001'", "tags.0 == 'a'",
          "new.status == 'published' AND old.status == 'draft'", "data.new == 'field-new'", "table == 'tb_post'",
          "context.user_id == 'u-1' && context.plan != \"free\"", "CHANGED(status)", "field_changed('status')",
          "CHANGED_TO(status, 'published')", "changed_from('status', \"draft\")", "HAS_FIELD(customer.country)",
          "has_field('nothing') || missing == null", "!(a > -1.5e3) && (b <= 2 || c <> 'x')",
          "'it\\'s' == \"it's\" AND '\\u0041' == 'A'", "operation == 'UPDATE' and event == 'post.updated'");
    }
  }
}
