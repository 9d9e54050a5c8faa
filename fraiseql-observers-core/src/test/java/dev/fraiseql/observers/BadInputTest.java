package dev.fraiseql.observers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.fraiseql.observers.config.ConfigProblem;
import dev.fraiseql.observers.config.ConfigText;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.internal.EventJson;
import dev.fraiseql.observers.testkit.CapturedStderr;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Issue 16's reproductions, as a new user would try them from outside: bad URLs, unknown keys in
 * every section, variables' values in messages, deep and cyclic rows.
 */
class BadInputTest {
  private static final String SECRET = "s3cr3t-XYZ";
  private static final String SECRET_URL = "https://user:s3cr3t-PASS@s3cr3t-host.example.com/hook?token=s3cr3t-QRY";
  private static final String PG_URL = "postgres://app:s3cr3t-PG@s3cr3t-db:5432/app";
  private static final Map<String, String> VARS = Map.of("TOKEN", SECRET, "SECRET_URL", SECRET_URL,
      "PG_URL", PG_URL, "NATS_URL", "nats://localhost:4222");
  private static final Function<String, Optional<String>> ENV = k -> Optional.ofNullable(VARS.get(k));

  private static ObserverConfigException loadFails(String toml) {
    ObserverConfigException e = catchThrowableOfType(ObserverConfigException.class,
        () -> ObserversConfig.parse(toml, "fraiseql.toml", ENV));
    assertThat(e).as("expected the config to be rejected at load").isNotNull();
    assertNoSecret(e.getMessage());
    return e;
  }

  private static ObserverConfigException buildFails(String toml) {
    ObserverConfigException e = catchThrowableOfType(ObserverConfigException.class, () -> ObserverEngine.builder()
        .config(toml, "fraiseql.toml").env(ENV).handler("fn_reserve_inventory", ev -> { }).build().close());
    assertThat(e).as("expected build() to fail").isNotNull();
    assertNoSecret(e.getMessage());
    return e;
  }

  private static void assertNoSecret(String text) {
    assertThat(text).doesNotContain("s3cr3t");
  }

  private static List<String> problems(ObserverConfigException e) {
    return e.problems().stream().map(ConfigProblem::toString).toList();
  }

  // --- 1. URL keys are checked at load ------------------------------------------------------------

  @Test
  void aMalformedNatsUrlIsAConfigProblemAtLoadEvenWithOnlyPublishRules() {
    String publishOnly = String.join("\n", "[observers]", "backend = \"nats\"", "nats_url = \"nats://$yNATS_URL}\"",
        "[[observers]]", "table = \"tb_order\"", "event = \"INSERT\"", "subject = \"fraiseql.order.created\"");
    // the position is java.net.URI's: JDK 17 stops at the `$` (8), newer JDKs at the `}` (18)
    assertThat(problems(loadFails(publishOnly))).singleElement().asString().matches(java.util.regex.Pattern.quote(
        "fraiseql.toml:3:1: `nats_url` (nats://$yNATS_URL}) is not a valid NATS URL: Illegal character in authority at position ")
        + "(8|18)" + java.util.regex.Pattern.quote(" in [observers] — write it as nats://host:4222 (tls://host:4222 for TLS);"
        + " several servers are separated by commas"));
    String withSubscription = String.join("\n", "[observers]", "backend = \"nats\"", "nats_url = \"nats://$yNATS_URL}\"",
        "[[observers.subscribe]]", "subject = \"fraiseql.order.created\"", "handler = \"fn_reserve_inventory\"");
    assertThat(problems(buildFails(withSubscription))).singleElement().asString()
        .startsWith("fraiseql.toml:3:1: `nats_url` (nats://$yNATS_URL}) is not a valid NATS URL");
  }

  @Test
  void anInvisibleCharacterInAUrlIsShownEscapedAndNamedWithItsPosition() {
    ObserverConfigException e = loadFails("[observers]\nnats_url = \"nats://loc\u202Ealhost:4222\"\n");
    assertThat(problems(e)).containsExactly("fraiseql.toml:2:1: `nats_url` (nats://loc\\u202Ealhost:4222) is not a"
        + " valid NATS URL: it contains an invisible formatting character (U+202E) at position 11; percent-encode it,"
        + " or remove it if it was pasted by accident in [observers] — write it as nats://host:4222 (tls://host:4222"
        + " for TLS); several servers are separated by commas");
  }

  @Test
  void redisClusterUrlsAreRefusedAtLoadWithTheReasonAndSentinelUrlsAreCheckedHostByHost() {
    ObserverConfigException e = loadFails(String.join("\n",
        "[observers]",
        "redis_url = \"redis-cluster://10.0.0.1:7000,10.0.0.2:7000\""));
    assertThat(problems(e)).containsExactly("fraiseql.toml:2:1: `redis_url` (redis-cluster://10.0.0.1:7000,10.0.0.2:7000)"
        + " is not a valid Redis URL: Redis Cluster is not supported yet (the redis backend talks to one master;"
        + " Sentinel failover is supported) in [observers] — write it as redis://[user:password@]host:6379[/db]"
        + " (rediss:// for TLS; percent-encode @ and : in the password), or"
        + " redis-sentinel://sentinel1:26379,sentinel2:26379/<master name>[/db] for a master Sentinel watches");
    ObserverConfigException badSentinel = loadFails(
        "[observers]\nredis_url = \"redis-sentinel://10.0.0.1:26379,10.0.0.2:99999/mymaster\"\n");
    assertThat(problems(badSentinel)).singleElement().asString()
        .startsWith("fraiseql.toml:2:1: `redis_url` (redis-sentinel://10.0.0.1:26379,10.0.0.2:99999/mymaster) is not a"
            + " valid Redis URL: the port must be from 1 to 65535");
  }

  @Test
  void everyUrlKeyIsCheckedByTheSameRuleAtLoad() {
    ObserverConfigException e = loadFails(String.join("\n",
        "[observers]",                                              // 1
        "redis_url = \"http://cache:6379\"",                        // 2
        "database_url = \"mysql://db/app\"",                        // 3
        "[observers.nats]",                                         // 4
        "nats_url = \"nats://host:99999\"",                         // 5
        "[[observers.handlers]]",                                   // 6
        "name = \"a\"",                                             // 7
        "event = \"user.created\"",                                 // 8
        "action = \"webhook\"",                                     // 9
        "webhook_url = \"ftp://files/x\"",                          // 10
        "[[observers.handlers]]",                                   // 11
        "name = \"b\"",                                             // 12
        "event = \"user.created\"",                                 // 13
        "action = \"slack\"",                                       // 14
        "url_env = \"TOKEN\"",                                      // 15
        "[[observers.rules]]",                                      // 16
        "table = \"tb_user\"",                                      // 17
        "[[observers.rules.actions]]",                              // 18
        "type = \"webhook\"",                                       // 19
        "webhook_url = \"${TOKEN}\""));                              // 20
    assertThat(problems(e)).containsExactly(
        "fraiseql.toml:2:1: `redis_url` (http://cache:6379) is not a valid Redis URL: its scheme must be redis,"
            + " rediss, redis-sentinel or rediss-sentinel in [observers] — write it as"
            + " redis://[user:password@]host:6379[/db] (rediss:// for TLS; percent-encode @ and : in the password),"
            + " or redis-sentinel://sentinel1:26379,sentinel2:26379/<master name>[/db] for a master Sentinel watches",
        "fraiseql.toml:3:1: `database_url` (mysql://db/app) is not a valid PostgreSQL URL: its scheme must be"
            + " postgres, postgresql or jdbc:postgresql in [observers] — write it as postgres://user:password@host:5432/db"
            + " or jdbc:postgresql://host:5432/db",
        "fraiseql.toml:5:1: `nats_url` (nats://host:99999) is not a valid NATS URL: the port must be from 1 to 65535"
            + " in [observers.nats] — write it as nats://host:4222 (tls://host:4222 for TLS); several servers are"
            + " separated by commas",
        "fraiseql.toml:10:1: `webhook_url` (ftp://files/x) is not a valid HTTP URL: its scheme must be http"
            + " or https in [[observers.handlers]] #1 — write it as https://hooks.example.com/fraiseql",
        "fraiseql.toml:15:1: `url_env` (${TOKEN}) is not a valid HTTP URL: it is not an absolute URL (scheme://host...)"
            + " in [[observers.handlers]] #2 — write it as https://hooks.example.com/fraiseql",
        "fraiseql.toml:20:1: `webhook_url` (${TOKEN}) is not a valid HTTP URL: it is not an absolute URL"
            + " (scheme://host...) in [[observers.rules.actions]] #1 of [[observers.rules]] #1 — write it as"
            + " https://hooks.example.com/fraiseql");
  }

  @Test
  void validUrlsOfEveryFormLoad() {
    ObserversConfig c = ObserversConfig.parse(String.join("\n",
        "[observers]",
        "backend = \"nats\"",
        "nats_url = \"nats://a:4222, tls://u:p@b:4222,localhost:4223\"",
        "redis_url = \"rediss://:pw@cache:6380/2\"",
        "database_url = \"jdbc:postgresql://h1:5432,h2:5433/app?user=root\"",
        "[[observers.handlers]]",
        "name = \"a\"",
        "event = \"e\"",
        "action = \"webhook\"",
        "webhook_url = \"${SECRET_URL}\""), "fraiseql.toml", ENV);
    assertThat(c.backendSettings().string("nats_url")).contains("nats://a:4222, tls://u:p@b:4222,localhost:4223");
    Settings s = c.handlers().get(0).settings();
    assertThat(s.string("url")).contains(SECRET_URL);
    assertThat(s.fromEnvironment("url")).isTrue();
    assertThat(s.shown("url")).isEqualTo("${SECRET_URL}");
    assertThat(c.backendSettings().shown("nats_url")).isEqualTo("nats://a:4222, tls://***@b:4222,localhost:4223");
    for (String ok : List.of("jdbc:postgresql:app", "postgres://db", "postgresql://u:p@[::1]:5432/app")) {
      assertThat(ObserversConfig.parse("[observers]\ndatabase_url = \"" + ok + "\"", "f.toml", ENV)
          .backendSettings().string("database_url")).contains(ok);
    }
  }

  // --- 2. one rule for unknown keys, in every section ----------------------------------------------

  @Test
  void unknownKeysOfASubscriptionFailTheBuildLikeEverySectionElse() {
    for (String key : List.of("foo = 1", "\"ключ\" = 1", "nested = [[[1]]]", "synchronous_timeout_ms = -inf",
        "\"a\u202Eb\" = 2")) {
      String toml = String.join("\n", "[[observers.subscribe]]", "subject = \"fraiseql.order.created\"",
          "handler = \"fn_reserve_inventory\"", key);
      ObserverConfigException e = buildFails(toml);
      assertThat(problems(e)).as(key).singleElement().asString().startsWith("fraiseql.toml:4:1: unknown key `")
          .contains("in [[observers.subscribe]] #1").doesNotContain("\u202E");
    }
    ObserverConfigException near = buildFails(String.join("\n", "[[observers.subscribe]]",
        "subject = \"fraiseql.order.created\"", "handler = \"fn_reserve_inventory\"", "ack_wiat_ms = 5"));
    assertThat(problems(near)).containsExactly("fraiseql.toml:4:1: unknown key `ack_wiat_ms` in [[observers.subscribe]] #1"
        + " — did you mean `ack_wait_ms`?");
    // and the same subscription without the key builds (the rule rejects the key, not the section)
    ObserverEngine.builder().config(String.join("\n", "[[observers.subscribe]]", "subject = \"fraiseql.order.created\"",
        "handler = \"fn_reserve_inventory\"", "ack_wait_ms = 5000"), "fraiseql.toml")
        .handler("fn_reserve_inventory", ev -> { }).build().close();
  }

  @Test
  void unknownKeysOfHandlersRulesActionsAndObserversStillFail() {
    assertThat(problems(buildFails("[observers]\nfoo = 1\n"))).containsExactly(
        "fraiseql.toml:2:1: unknown key `foo` in [observers] — expected one of: backend, capture, checkpoint_strategy,"
            + " claim_ttl_ms, database_url, dead_letter_capacity, dead_letter_store, handlers, idempotency_store,"
            + " idempotency_table, in-memory, max_in_flight, nats, nats_url, overflow_policy, overflow_timeout_ms,"
            + " postgres, redis, redis_url, rules, shutdown_timeout_ms, subscribe, webhook");
    assertThat(problems(buildFails("[[observers.handlers]]\nname = \"h\"\nevent = \"e\"\naction = \"handler\"\n"
        + "handler = \"fn_reserve_inventory\"\nfoo = 1\n"))).singleElement().asString()
        .startsWith("fraiseql.toml:6:1: unknown key `foo` in [[observers.handlers]] #1");
    assertThat(problems(buildFails("[[observers.rules]]\ntable = \"t\"\nsubject = \"s\"\nfoo = 1\n")))
        .singleElement().asString().startsWith("fraiseql.toml:4:1: unknown key `foo` in [[observers.rules]] #1");
  }

  // --- 3. a variable's value never appears in a message, a log line or a toString -----------------

  @Test
  void anUnknownBackendFromAVariableIsNotShown() {
    ObserverConfigException e = loadFails("[observers]\nbackend = \"${SECRET_URL}\"\n");
    assertThat(e.getMessage()).contains("`backend` cannot take ${SECRET_URL} from the environment");
  }

  @Test
  void anActionBuiltFromVariablesIsNotShown() {
    ObserverConfigException e = loadFails(String.join("\n", "[[observers.handlers]]", "name = \"h\"", "event = \"e\"",
        "action = \"http://u:${TOKEN}@h/p?k=${TOKEN}\""));
    assertThat(e.getMessage()).contains("`action` cannot take ${TOKEN} from the environment");
  }

  @Test
  void aSubscriptionHandlerFromAVariableIsNotShown() {
    ObserverConfigException e = loadFails(String.join("\n", "[[observers.subscribe]]", "subject = \"s\"",
        "handler = \"${TOKEN}\""));
    assertThat(e.getMessage()).contains("`handler` cannot take ${TOKEN} from the environment");
  }

  @Test
  void envKeysAreNeverExpanded() {
    ObserverConfigException e = loadFails(String.join("\n", "[[observers.handlers]]", "name = \"h\"", "event = \"e\"",
        "action = \"webhook\"", "webhook_url = \"https://hooks.example.com/x\"", "signing_secret_env = \"x${TOKEN}y\"",
        "signing_secrets_env = [\"A\", \"${TOKEN}\"]", "[observers.nats]", "token_env = \"${TOKEN}\""));
    assertThat(problems(e)).containsExactly(
        "fraiseql.toml:6:24: `signing_secret_env` names an environment variable, so ${TOKEN} is not expanded in it"
            + " in [[observers.handlers]] #1 — write the variable's name: signing_secret_env = \"TOKEN\"",
        "fraiseql.toml:7:1: `signing_secrets_env` names an environment variable, so ${TOKEN} is not expanded in it"
            + " in [[observers.handlers]] #1 — write the variable's name: signing_secrets_env = \"TOKEN\"",
        "fraiseql.toml:9:14: `token_env` names an environment variable, so ${TOKEN} is not expanded in it in"
            + " [observers.nats] — write the variable's name: token_env = \"TOKEN\"");
  }

  @Test
  void namesTablesAndConditionsDoNotTakeVariablesSoToStringCannotShowThem() {
    for (String line : List.of("name = \"n-${TOKEN}\"", "table = \"${TOKEN}\"", "condition = \"x == '${TOKEN}'\"",
        "event = \"${TOKEN}.created\"")) {
      String toml = String.join("\n", "[[observers.handlers]]", line.startsWith("name") ? line : "name = \"h\"",
          line.startsWith("table") ? line + "\nevent = \"INSERT\"" : line.startsWith("event") ? line : "event = \"e\"",
          "action = \"handler\"", "handler = \"x\"", line.startsWith("condition") ? line : "");
      ObserverConfigException e = loadFails(toml);
      assertThat(e.getMessage()).as(line).contains("cannot take ${TOKEN} from the environment");
    }
    // what may come from the environment (URLs, headers, an action's own settings) is not in toString
    HandlerConfig h = ObserversConfig.parse(String.join("\n", "[[observers.handlers]]", "name = \"h\"",
        "event = \"e\"", "action = \"webhook\"", "webhook_url = \"${SECRET_URL}\"",
        "headers = { Authorization = \"Bearer ${TOKEN}\" }", "channel = \"#${TOKEN}\""), "f.toml", ENV)
        .handlers().get(0);
    assertThat(h.settings().stringMap("headers")).containsEntry("Authorization", "Bearer " + SECRET);
    assertNoSecret(h.toString());
    assertNoSecret(h.settings().toString());
    assertThat(h.settings().shown("channel")).isEqualTo("#${TOKEN}");
    assertThat(h.settings().table("headers").orElseThrow().shown("Authorization")).isEqualTo("Bearer ${TOKEN}");
  }

  @Test
  void aUrlWrittenInTheFileIsShownWithoutItsCredentials() {
    assertThat(ConfigText.shown("https://user:pw@example.com:8443/hook?token=abc#frag", null))
        .isEqualTo("https://***@example.com:8443/hook?***");
    assertThat(ConfigText.shown("nats://a:1,nats://t0k3n@b:2", null)).isEqualTo("nats://a:1,nats://***@b:2");
    assertThat(ConfigText.shown(SECRET_URL, "${SECRET_URL}")).isEqualTo("${SECRET_URL}");
    assertThat(ConfigText.shown(SECRET, "http://u:${TOKEN}@h/p?k=${TOKEN}")).isEqualTo("http://***@h/p?***");
  }

  @Test
  void noVariableValueReachesTheStartUpLog() throws Exception {
    String log = CapturedStderr.during(() -> ObserverEngine.builder().config(String.join("\n",
        "[observers]", "database_url = \"${PG_URL}\"",
        "[[observers.handlers]]", "name = \"h\"", "event = \"e\"", "action = \"handler\"",
        "handler = \"fn_reserve_inventory\""), "f.toml").env(ENV).handler("fn_reserve_inventory", ev -> { }).build().close());
    assertNoSecret(log);
  }

  // --- 4. deep and cyclic rows ---------------------------------------------------------------------

  private static Map<String, Object> nestedMap(int levels) {
    Map<String, Object> root = new HashMap<>();
    Map<String, Object> m = root;
    for (int i = 1; i < levels; i++) {
      Map<String, Object> next = new HashMap<>();
      m.put("a", next);
      m = next;
    }
    m.put("leaf", 1);
    return root;
  }

  private static List<Object> nestedList(int levels) {
    List<Object> root = new ArrayList<>();
    List<Object> l = root;
    for (int i = 1; i < levels; i++) {
      List<Object> next = new ArrayList<>();
      l.add(next);
      l = next;
    }
    l.add(1);
    return root;
  }

  @Test
  void rowsNestedDeeperThanTheLimitAreRefusedWithoutAStackOverflow() {
    for (Object deep : List.<Object>of(nestedMap(10_000), Map.of("l", nestedList(10_000)),
        nestedMap(ObservedEvent.MAX_ROW_DEPTH + 1), Map.of("l", nestedList(ObservedEvent.MAX_ROW_DEPTH)))) {
      assertThatThrownBy(() -> ObservedEvent.builder().operation(Operation.INSERT).table("t").newRow(deep))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("new row is nested more than 100 levels deep");
    }
    assertThatThrownBy(() -> ObservedEvent.update("t", Map.of("x", 1), nestedMap(101)))
        .hasMessageStartingWith("old row is nested more than 100 levels deep");
  }

  @Test
  void aRowAtTheLimitIsAcceptedAndSerializesAndReadsBack() {
    Map<String, Object> atLimit = nestedMap(ObservedEvent.MAX_ROW_DEPTH);
    ObservedEvent e = ObservedEvent.builder().operation(Operation.INSERT).table("t").newRow(atLimit)
        .context(MutationContext.builder().attribute("deep", nestedMap(ObservedEvent.MAX_ROW_DEPTH)).build()).build();
    String json = new String(e.toJson(), StandardCharsets.UTF_8);
    assertThat(json).contains("\"leaf\":1");
    ObservedEvent back = EventJson.read(e.toJson());
    assertThat(back.newRow()).isEqualTo(e.newRow());
    // a frozen row at the limit nested one level further is refused: its height is remembered
    assertThatThrownBy(() -> ObservedEvent.insert("t", Map.of("wrap", e.newRow().orElseThrow())))
        .hasMessageStartingWith("new row is nested more than 100 levels deep");
    assertThat(ObservedEvent.insert("t", Map.of("wrap", e.newRow().orElseThrow().get("a"))).toJson()).asString(StandardCharsets.UTF_8).contains("leaf");
  }

  @Test
  void rowsThatContainThemselvesAreRefused() {
    Map<String, Object> self = new LinkedHashMap<>();
    self.put("id", 1);
    self.put("me", self);
    List<Object> selfList = new ArrayList<>();
    selfList.add(selfList);
    Map<String, Object> indirect = new LinkedHashMap<>();
    indirect.put("items", new ArrayList<>(List.of(Map.of("parent", indirect))));
    for (Object row : List.<Object>of(self, Map.of("l", selfList), indirect)) {
      assertThatThrownBy(() -> ObservedEvent.insert("t", row)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("new row contains itself");
    }
    assertThatThrownBy(() -> MutationContext.builder().attribute("a", self))
        .hasMessageStartingWith("context attribute `a` contains itself");
    // a shared (not cyclic) part is fine
    Map<String, Object> shared = Map.of("k", "v");
    assertThat(ObservedEvent.insert("t", Map.of("x", shared, "y", List.of(shared, shared))).toJson()).asString(StandardCharsets.UTF_8)
        .contains("\"k\"");
  }

  /** A bean that refers back to itself through another. */
  public static final class Node {
    private final List<Node> children = new ArrayList<>();
    private Node parent;

    public List<Node> getChildren() {
      return children;
    }

    public Node getParent() {
      return parent;
    }
  }

  @Test
  void beansThatCycleOrNestTooDeeplyAreRefusedToo() {
    Node root = new Node();
    Node child = new Node();
    child.parent = root;
    root.children.add(child);
    assertThatThrownBy(() -> ObservedEvent.insert("t", root)).isInstanceOf(IllegalArgumentException.class);
    Node chain = new Node();
    Node n = chain;
    for (int i = 0; i < 10_000; i++) {
      Node next = new Node();
      n.children.add(next);
      n = next;
    }
    assertThatThrownBy(() -> ObservedEvent.insert("t", chain)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void nothingUnserializableReachesAHandler() {
    List<ObservedEvent> seen = new CopyOnWriteArrayList<>();
    try (ObserverEngine engine = ObserverEngine.builder().configToml(String.join("\n", "[[observers.handlers]]",
        "name = \"h\"", "event = \"t.created\"", "action = \"handler\"", "handler = \"java\""))
        .handler("java", seen::add).build()) {
      assertThatThrownBy(() -> engine.onCommit(ObservedEvent.insert("t", nestedMap(2_000))))
          .isInstanceOf(IllegalArgumentException.class);
      engine.onCommit(ObservedEvent.insert("t", nestedMap(ObservedEvent.MAX_ROW_DEPTH))).awaitSynchronous();
    }
    assertThat(seen).hasSize(1);
    assertThat(seen.get(0).toJson()).asString(StandardCharsets.UTF_8).contains("leaf");
  }
}
