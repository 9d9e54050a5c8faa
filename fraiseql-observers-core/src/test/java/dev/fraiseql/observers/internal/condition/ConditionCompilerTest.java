package dev.fraiseql.observers.internal.condition;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.Operation;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ConditionCompilerTest {
  private static final MutationContext CTX = MutationContext.builder().userId("u-1").tenantId("t-1")
      .requestId("req_01HV3KQBN7").attribute("plan", "pro").attribute("limits", Map.of("seats", 5))
      .attribute("user_id", "shadowed").build();

  static Map<String, Object> row(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  static final ObservedEvent INSERT = ObservedEvent.builder().operation(Operation.INSERT).table("tb_post")
      .mutation("createPost").context(CTX)
      .newRow(row("status", "published", "views", 100, "price", new BigDecimal("100.00"), "ratio", 0.5,
          "title", "Hello", "customer", row("country", "FR", "address", row("zip", "75001")), "tags", List.of("a", "b"),
          "active", true, "nothing", null, "new", "field-new", "table", "row-table", "big", 12345678901234L))
      .build();
  static final ObservedEvent UPDATE = ObservedEvent.builder().operation(Operation.UPDATE).table("tb_post")
      .context(CTX)
      .newRow(row("status", "published", "views", 101, "price", 100, "title", "Hello", "customer", row("country", "DE"),
          "active", false, "same_map", row("a", 1), "same_num", 1.0))
      .oldRow(row("status", "draft", "views", 100, "price", new BigDecimal("100.0"), "title", "Hello",
          "customer", row("country", "FR"), "active", true, "same_map", row("a", 1L), "same_num", 1, "gone", "x"))
      .build();
  static final ObservedEvent DELETE = ObservedEvent.builder().operation(Operation.DELETE).table("tb_post")
      .oldRow(row("status", "archived", "views", 7)).build();
  static final ObservedEvent RENAMED = ObservedEvent.builder().operation(Operation.INSERT).table("public.tb_user")
      .name("account.opened").newRow(row("email", "a@example.com")).build();

  static ObservedEvent event(String name) {
    switch (name) {
      case "INSERT":
        return INSERT;
      case "UPDATE":
        return UPDATE;
      case "DELETE":
        return DELETE;
      default:
        return RENAMED;
    }
  }

  static Stream<Arguments> cases() {
    return Stream.of(
        // the seed's condition
        Arguments.of("status == 'published'", "INSERT", true),
        Arguments.of("status == 'published'", "DELETE", false),
        Arguments.of("status = \"published\"", "INSERT", true),
        Arguments.of("status != 'published'", "INSERT", false),
        Arguments.of("status <> 'draft'", "INSERT", true),
        // numbers compare numerically
        Arguments.of("price == 100", "INSERT", true),
        Arguments.of("price == 100.00", "INSERT", true),
        Arguments.of("100.000 == price", "INSERT", true),
        Arguments.of("views >= 100", "INSERT", true),
        Arguments.of("views > 100", "INSERT", false),
        Arguments.of("views < 100.5", "INSERT", true),
        Arguments.of("views <= 99", "INSERT", false),
        Arguments.of("ratio == 0.5", "INSERT", true),
        Arguments.of("ratio < 5e-1", "INSERT", false),
        Arguments.of("ratio > -1", "INSERT", true),
        Arguments.of("big == 12345678901234", "INSERT", true),
        Arguments.of("1.5e3 == 1500", "INSERT", true),
        // strings compare lexicographically
        Arguments.of("title < 'World'", "INSERT", true),
        Arguments.of("title > 'Hello'", "INSERT", false),
        Arguments.of("title >= 'Hello'", "INSERT", true),
        Arguments.of("title < 'hello'", "INSERT", true),
        // mixed types
        Arguments.of("views == '100'", "INSERT", false),
        Arguments.of("views != '100'", "INSERT", true),
        Arguments.of("views > '1'", "INSERT", false),
        Arguments.of("active == 'true'", "INSERT", false),
        Arguments.of("active > false", "INSERT", false),
        // booleans and bare fields
        Arguments.of("active", "INSERT", true),
        Arguments.of("active == true", "INSERT", true),
        Arguments.of("NOT active", "INSERT", false),
        Arguments.of("!active", "UPDATE", true),
        Arguments.of("status", "INSERT", false),
        Arguments.of("true", "INSERT", true),
        Arguments.of("FALSE", "INSERT", false),
        // missing fields and null
        Arguments.of("missing == null", "INSERT", true),
        Arguments.of("missing != null", "INSERT", false),
        Arguments.of("missing == 'a'", "INSERT", false),
        Arguments.of("missing != 'a'", "INSERT", true),
        Arguments.of("missing > 1", "INSERT", false),
        Arguments.of("missing <= 1", "INSERT", false),
        Arguments.of("NOT (missing > 1)", "INSERT", true),
        Arguments.of("missing", "INSERT", false),
        Arguments.of("NOT missing", "INSERT", true),
        Arguments.of("nothing == null", "INSERT", true),
        Arguments.of("nothing == NULL", "INSERT", true),
        Arguments.of("missing.deeper.still == null", "INSERT", true),
        Arguments.of("status.length == null", "INSERT", true),
        Arguments.of("null == null", "INSERT", true),
        Arguments.of("null < null", "INSERT", false),
        // nested paths and lists
        Arguments.of("customer.country == 'FR'", "INSERT", true),
        Arguments.of("customer.address.zip == '75001'", "INSERT", true),
        Arguments.of("tags.0 == 'a'", "INSERT", true),
        Arguments.of("tags.1 == 'b'", "INSERT", true),
        Arguments.of("tags.2 == null", "INSERT", true),
        Arguments.of("tags == null", "INSERT", false),
        // new., old., data.
        Arguments.of("new.status == 'published' AND old.status == 'draft'", "UPDATE", true),
        Arguments.of("data.status == 'published'", "UPDATE", true),
        Arguments.of("status == 'archived'", "DELETE", true),
        Arguments.of("data.status == 'archived'", "DELETE", true),
        Arguments.of("new.status == null", "DELETE", true),
        Arguments.of("old.status == 'archived'", "DELETE", true),
        Arguments.of("old == null", "INSERT", true),
        Arguments.of("new == null", "DELETE", true),
        Arguments.of("new != null AND old != null", "UPDATE", true),
        // roots win over row fields; data. reaches the row field
        Arguments.of("data.new == 'field-new'", "INSERT", true),
        Arguments.of("new.new == 'field-new'", "INSERT", true),
        Arguments.of("table == 'tb_post'", "INSERT", true),
        Arguments.of("data.table == 'row-table'", "INSERT", true),
        Arguments.of("event == 'post.created'", "INSERT", true),
        Arguments.of("event == 'account.opened'", "RENAMED", true),
        Arguments.of("table == 'public.tb_user'", "RENAMED", true),
        Arguments.of("operation == 'UPDATE'", "UPDATE", true),
        Arguments.of("operation == 'INSERT' OR operation == 'DELETE'", "DELETE", true),
        // context
        Arguments.of("context.user_id == 'u-1'", "INSERT", true),
        Arguments.of("context.tenant_id == 't-1'", "INSERT", true),
        Arguments.of("context.request_id == 'req_01HV3KQBN7'", "INSERT", true),
        Arguments.of("context.plan == 'pro'", "INSERT", true),
        Arguments.of("context.attributes.plan == 'pro'", "INSERT", true),
        Arguments.of("context.attributes.user_id == 'shadowed'", "INSERT", true),
        Arguments.of("context.limits.seats >= 5", "INSERT", true),
        Arguments.of("context.mutation == 'createPost'", "INSERT", true),
        Arguments.of("context.event_name == 'post.created'", "INSERT", true),
        Arguments.of("context.user_id == null", "DELETE", true),
        Arguments.of("context.nope == null", "DELETE", true),
        // boolean operators, precedence, parentheses
        Arguments.of("status == 'published' AND views > 10", "INSERT", true),
        Arguments.of("status == 'published' && views > 1000", "INSERT", false),
        Arguments.of("status == 'draft' || views > 10", "INSERT", true),
        Arguments.of("status == 'draft' or views > 10", "INSERT", true),
        Arguments.of("status == 'draft' Or views > 1000", "INSERT", false),
        Arguments.of("true OR false AND false", "INSERT", true),
        Arguments.of("(true OR false) AND false", "INSERT", false),
        Arguments.of("NOT status == 'draft'", "INSERT", true),
        Arguments.of("not (status == 'draft' or status == 'archived')", "INSERT", true),
        Arguments.of("!!active", "INSERT", true),
        Arguments.of("((((status == 'published'))))", "INSERT", true),
        Arguments.of("(views > 1) == true", "INSERT", true),
        // escapes
        Arguments.of("'it\\'s' == \"it's\"", "INSERT", true),
        Arguments.of("'\\u0041' == 'A'", "INSERT", true),
        Arguments.of("'a\\\\b' != 'ab'", "INSERT", true),
        // CHANGED and friends: UPDATE
        Arguments.of("CHANGED(status)", "UPDATE", true),
        Arguments.of("changed(title)", "UPDATE", false),
        Arguments.of("CHANGED(price)", "UPDATE", false),
        Arguments.of("CHANGED(same_map)", "UPDATE", false),
        Arguments.of("CHANGED(same_num)", "UPDATE", false),
        Arguments.of("CHANGED(customer.country)", "UPDATE", true),
        Arguments.of("CHANGED(gone)", "UPDATE", true),
        Arguments.of("CHANGED(never_there)", "UPDATE", false),
        Arguments.of("CHANGED(data.status)", "UPDATE", true),
        Arguments.of("field_changed('status')", "UPDATE", true),
        Arguments.of("FIELD_CHANGED('customer.country')", "UPDATE", true),
        Arguments.of("CHANGED_TO(status, 'published')", "UPDATE", true),
        Arguments.of("changed_to('status', 'draft')", "UPDATE", false),
        Arguments.of("CHANGED_FROM(status, 'draft')", "UPDATE", true),
        Arguments.of("changed_from('status', \"published\")", "UPDATE", false),
        Arguments.of("CHANGED_TO(views, 101.0)", "UPDATE", true),
        Arguments.of("CHANGED_TO(active, false) AND CHANGED_FROM(active, true)", "UPDATE", true),
        Arguments.of("CHANGED_TO(gone, null)", "UPDATE", true),
        Arguments.of("CHANGED_TO(title, 'Hello')", "UPDATE", false),
        // CHANGED: INSERT and DELETE (the absent row is all nulls)
        Arguments.of("CHANGED(status)", "INSERT", true),
        Arguments.of("CHANGED(nothing)", "INSERT", false),
        Arguments.of("CHANGED_TO(status, 'published')", "INSERT", true),
        Arguments.of("CHANGED_FROM(status, null)", "INSERT", true),
        Arguments.of("CHANGED(status)", "DELETE", true),
        Arguments.of("CHANGED_FROM(status, 'archived')", "DELETE", true),
        Arguments.of("CHANGED_TO(status, null)", "DELETE", true),
        Arguments.of("CHANGED(missing)", "DELETE", false),
        // HAS_FIELD
        Arguments.of("HAS_FIELD(status)", "INSERT", true),
        Arguments.of("has_field('nothing')", "INSERT", true),
        Arguments.of("HAS_FIELD(missing)", "INSERT", false),
        Arguments.of("HAS_FIELD(customer.address.zip)", "INSERT", true),
        Arguments.of("HAS_FIELD(status)", "DELETE", true),
        Arguments.of("HAS_FIELD(new.status)", "DELETE", false),
        Arguments.of("HAS_FIELD(old.gone)", "UPDATE", true),
        Arguments.of("HAS_FIELD(gone)", "UPDATE", false),
        Arguments.of("has_field('data.new')", "INSERT", true),
        Arguments.of("HAS_FIELD(table)", "INSERT", true),
        Arguments.of("CHANGED(table)", "INSERT", true),
        // whitespace
        Arguments.of("  status\n==\t'published'  ", "INSERT", true));
  }

  @ParameterizedTest(name = "[{1}] {0} → {2}")
  @MethodSource("cases")
  void evaluates(String condition, String event, boolean expected) {
    assertThat(ConditionCompiler.compile(condition).test(event(event))).isEqualTo(expected);
  }

  static Stream<Arguments> malformed() {
    return Stream.of(
        Arguments.of("", 0, "condition is empty"),
        Arguments.of("   ", 0, "condition is empty"),
        Arguments.of("status ==", 9, "condition ends too early: expected a value"),
        Arguments.of("status == 'published", 10, "string is not closed"),
        Arguments.of("status == \"x", 10, "string is not closed"),
        Arguments.of("status == 'a\\q'", 12, "unknown escape `\\q` in a string"),
        Arguments.of("status == '\\u12'", 11, "bad unicode escape"),
        Arguments.of("(status == 'a'", 14, "expected `)` to close the `(` at position 0, found the end of the condition"),
        Arguments.of("status == 'a')", 13, "unbalanced `)`"),
        Arguments.of("status == 'a' status", 14, "unexpected `status` after a complete condition"),
        Arguments.of("a == b == c", 7, "comparisons do not chain"),
        Arguments.of("a & b", 2, "unexpected `&`"),
        Arguments.of("a | b", 2, "unexpected `|`"),
        Arguments.of("a == #", 5, "unexpected character `#`"),
        Arguments.of("a == 12abc", 5, "malformed number `12a`"),
        Arguments.of("a == 1.2.3", 5, "malformed number `1.2.`"),
        Arguments.of("customer. == 1", 8, "field path `customer.` ends with `.`"),
        Arguments.of("AND a", 0, "expected a value, found `AND`"),
        Arguments.of("a == ==", 5, "expected a value, found `==`"),
        Arguments.of("a AND", 5, "condition ends too early: expected a value"),
        Arguments.of("'published'", 0, "a string is not a condition"),
        Arguments.of("42", 0, "a number is not a condition"),
        Arguments.of("a == 1 AND 'x'", 11, "a string is not a condition"),
        Arguments.of("NOT null", 4, "null is not a condition"),
        Arguments.of("(('x')) OR a", 2, "a string is not a condition"),
        Arguments.of("chnged(status)", 0, "unknown function `chnged`"),
        Arguments.of("a == 1 OR lower(status) == 'x'", 10, "unknown function `lower`"),
        Arguments.of("status.toUpperCase() == 'X'", 0, "method calls are not allowed: `status.toUpperCase(`"),
        Arguments.of("CHANGED()", 8, "CHANGED expects a field, found `)`"),
        Arguments.of("CHANGED(1)", 8, "CHANGED expects a field, found the number 1"),
        Arguments.of("CHANGED(a, b)", 9, "expected `)` to close CHANGED(, found `,`"),
        Arguments.of("CHANGED_TO(status)", 17, "CHANGED_TO takes two arguments: a field and a value; expected `,`, found `)`"),
        Arguments.of("CHANGED_TO(status, other)", 19, "CHANGED_TO expects a literal value as its second argument, found `other`"),
        Arguments.of("CHANGED(new.status)", 8, "CHANGED compares the old and new rows itself: give it a row field"),
        Arguments.of("CHANGED(context.user_id)", 8, "the functions take a row field, not `context.user_id`"),
        Arguments.of("HAS_FIELD(new)", 10, "HAS_FIELD needs a field name, not a whole row"),
        Arguments.of("has_field('new')", 10, "has_field needs a field name, not a whole row"),
        Arguments.of("has_field('')", 10, "`''` is not a field path"),
        Arguments.of("has_field('a..b')", 10, "`'a..b'` is not a field path"),
        Arguments.of("context == null", 0, "`context` needs a field"),
        Arguments.of("table.name == 'x'", 0, "`table` is the event's table and has no fields"),
        Arguments.of("event.x == 'x'", 0, "`event` is the event's name and has no fields"),
        Arguments.of("a == -", 5, "unexpected character `-`"),
        Arguments.of("a == 1e99999", 5, "number `1e99999` is out of range"),
        Arguments.of("a == \u0001", 5, "unexpected character `\\u0001`"));
  }

  @ParameterizedTest(name = "{0} → {2} at {1}")
  @MethodSource("malformed")
  void rejects(String condition, int position, String reason) {
    ConditionSyntaxException e = catchThrowableOfType(ConditionSyntaxException.class,
        () -> ConditionCompiler.compile(condition));
    assertThat(e).as("no exception for %s", condition).isNotNull();
    assertThat(e.reason()).isEqualTo(reason);
    assertThat(e.position()).isEqualTo(position);
    assertThat(e.getMessage()).startsWith(reason);
  }

  @Test
  void unknownFunctionsGetADidYouMean() {
    assertThat(catchThrowableOfType(ConditionSyntaxException.class, () -> ConditionCompiler.compile("chnged(status)"))
        .getMessage()).isEqualTo("unknown function `chnged` — did you mean `CHANGED`?");
    assertThat(catchThrowableOfType(ConditionSyntaxException.class, () -> ConditionCompiler.compile("has_feild('x')"))
        .hint()).contains("did you mean `HAS_FIELD`?");
    assertThat(catchThrowableOfType(ConditionSyntaxException.class, () -> ConditionCompiler.compile("eval('x')"))
        .hint()).contains("the functions are CHANGED(f), CHANGED_TO(f, v), CHANGED_FROM(f, v) and HAS_FIELD(f)");
  }

  @Test
  void limitsAreEnforcedWithPositions() {
    String tooLong = "a == '" + "x".repeat(ConditionCompiler.MAX_LENGTH) + "'";
    ConditionSyntaxException e = catchThrowableOfType(ConditionSyntaxException.class,
        () -> ConditionCompiler.compile(tooLong));
    assertThat(e.reason()).isEqualTo("condition is too long: 4103 characters, at most 4096 allowed");
    assertThat(e.position()).isEqualTo(4096);

    String deep = "(".repeat(65) + "a" + ")".repeat(65);
    e = catchThrowableOfType(ConditionSyntaxException.class, () -> ConditionCompiler.compile(deep));
    assertThat(e.reason()).isEqualTo("condition is nested too deeply: at most 64 levels");
    assertThat(e.position()).isEqualTo(64);
    assertThat(ConditionCompiler.compile("(".repeat(64) + "true" + ")".repeat(64)).test(INSERT)).isTrue();

    String nots = "NOT ".repeat(70) + "a";
    e = catchThrowableOfType(ConditionSyntaxException.class, () -> ConditionCompiler.compile(nots));
    assertThat(e.reason()).isEqualTo("condition is nested too deeply: at most 64 levels");
    assertThat(e.position()).isEqualTo(64 * 4);

    StringBuilder many = new StringBuilder("a == 1");
    while (many.length() < 4000) {
      many.append(" OR a == 1");
    }
    e = catchThrowableOfType(ConditionSyntaxException.class, () -> ConditionCompiler.compile(many.toString()));
    assertThat(e.reason()).isEqualTo("condition has too many tokens: at most 1024 allowed");
    // token 1025 is the `a` of the 256th " OR a == 1": 6 + 255 * 10 + 4
    assertThat(e.position()).isEqualTo(2560);
  }

  @Test
  void longFlatConditionsEvaluateWithoutDeepRecursion() {
    StringBuilder s = new StringBuilder("views == 0");
    for (int i = 1; i < 200; i++) {
      s.append(" OR views == ").append(i);
    }
    Condition c = ConditionCompiler.compile(s.toString());
    assertThat(c.test(INSERT)).isTrue();
    assertThat(c.test(DELETE)).isTrue();
    assertThat(ConditionCompiler.compile("views == 1000 OR views == 1001").test(INSERT)).isFalse();
  }

  @Test
  void evaluationNeverThrows() {
    Condition c = ConditionCompiler.compile("weird == 1 OR CHANGED(weird) OR weird > 'a'");
    ObservedEvent odd = ObservedEvent.builder().operation(Operation.UPDATE).table("t")
        .newRow(row("weird", Double.NaN)).oldRow(row("weird", Double.POSITIVE_INFINITY)).build();
    assertThat(c.test(odd)).isTrue();
    assertThat(ConditionCompiler.compile("weird == weird").test(odd)).isFalse();
    assertThat(ConditionCompiler.compile("weird > 1").test(odd)).isFalse();
    assertThat(c.test(null)).isFalse();
  }

  @Test
  void nullSourceIsASyntaxError() {
    assertThatThrownBy(() -> ConditionCompiler.compile(null)).isInstanceOf(ConditionSyntaxException.class);
  }
}
