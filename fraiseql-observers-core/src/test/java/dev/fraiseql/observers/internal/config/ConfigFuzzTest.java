package dev.fraiseql.observers.internal.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.internal.condition.Condition;
import dev.fraiseql.observers.internal.condition.ConditionCompiler;
import dev.fraiseql.observers.internal.condition.ConditionSyntaxException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Thousands of malformed configurations and conditions, generated from the seeds with a fixed seed:
 * only {@link ObserverConfigException} / {@link ConditionSyntaxException} may come out, never another
 * exception, and nothing hangs.
 */
class ConfigFuzzTest {
  private static final long SEED = 0x5EED_F00DL;
  private static final int CONFIGS = 1000;
  private static final int CONDITIONS = 4000;

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

  private static final Function<String, Optional<String>> ENV = k -> Optional.ofNullable(
      Map.of("HOST", "localhost", "HOOK", "https://h", "NATS_URL", "nats://n", "USER_CREATED_WEBHOOK_URL", "https://u",
          "WELCOME_EMAIL_SERVICE_URL", "https://w", "EVENT_BUS_INGEST_URL", "https://e").get(k));

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
    assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
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
    assertThat(outcomes[0]).as("loaded").isGreaterThan(50);
    assertThat(outcomes[1]).as("rejected").isGreaterThan(500);
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
      assertThat(e.getMessage()).doesNotContain("https://h").doesNotContain("localhost");
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
