package dev.fraiseql.observers.examples.choreography;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.ObserverListener;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.SubscriptionConfig;
import dev.fraiseql.observers.examples.support.Checks;
import dev.fraiseql.observers.examples.support.FlakySmtpRelay;
import dev.fraiseql.observers.examples.support.RunNamespace;
import dev.fraiseql.observers.examples.support.Services;
import dev.fraiseql.observers.pg.PgMutationContext;
import dev.fraiseql.observers.pg.PgOutboxRelay;
import dev.fraiseql.observers.spi.ActionResult;
import dev.fraiseql.observers.spi.DeadLetter;
import io.nats.client.Connection;
import io.nats.client.api.PublishAck;
import io.nats.client.impl.Headers;
import jakarta.mail.Message;
import jakarta.mail.Multipart;
import jakarta.mail.internet.MimeMessage;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import javax.sql.DataSource;

/**
 * Seed 000's microservices choreography, end to end against a local NATS JetStream and PostgreSQL.
 *
 * <p>Three services, each an {@link ObserverEngine} with its own {@code fraiseql.toml} and (for two of
 * them) its own database schema. They never call each other: all coordination goes through NATS.
 * <ul>
 *   <li><b>order-service</b> inserts orders into its {@code tb_order} with plain SQL and commits: no publish
 *       call. Its {@code fraiseql.toml} turns on zero-code capture ({@code [observers.postgres] capture =
 *       "triggers"}): a trigger records each committed change in the service's outbox, in the same
 *       transaction, and a {@link PgOutboxRelay} hands it to the engine, whose seed-000 rule publishes
 *       {@code fraiseql.order.created}. The mutation context (user, tenant, request) comes from
 *       {@code SET LOCAL fraiseql.*} settings ({@link PgMutationContext}).
 *   <li><b>inventory-service</b> subscribes with seed 000's {@code handler = "fn_reserve_inventory"}: a SQL
 *       function in its own schema that reserves stock from the JSONB payload (effectively once).
 *   <li><b>notification-service</b> subscribes to the same subject and sends one confirmation email per
 *       order over SMTP ({@code action = "email"}) to a real mail server started by the example (GreenMail,
 *       embedded), effectively once; the run reads the mailbox.
 * </ul>
 * The run injects one duplicate delivery (an order's event stored a second time in the stream under
 * another message id, as a producer retrying after the de-duplication window would) and one transient
 * failure on each side (the SQL function fails once with SQLSTATE 40001; the mail server answers 451
 * once to a recipient), then checks that every order was reserved exactly once and notified exactly once.
 *
 * <p>Run it with {@code bin/choreography}.
 */
public final class Choreography {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration SETTLE = Duration.ofSeconds(40);

  /** The orders the run places: id, customer, items (sku, quantity), total. */
  record Order(String id, String email, Map<String, Integer> items, BigDecimal total) {}

  static final List<Order> ORDERS = List.of(
      new Order("o-1001", "alice@example.com", items("MUG-RED", 2, "TEE-L", 1), new BigDecimal("41.50")),
      new Order("o-1002", "bob@example.com", items("POSTER-A2", 1), new BigDecimal("12.00")),
      new Order("o-1003", "carol@example.com", items("MUG-RED", 3), new BigDecimal("28.50")),
      new Order("o-1004", "dave@example.com", items("TEE-L", 1, "POSTER-A2", 1), new BigDecimal("31.00")));
  /** The order whose event is delivered twice. */
  static final String DUPLICATED = "o-1001";
  /** The order whose reservation fails once (SQLSTATE 40001). */
  static final String FLAKY_RESERVATION = "o-1002";
  /** The order whose confirmation email is answered 451 once (its recipient is greylisted). */
  static final String FLAKY_EMAIL = "o-1003";

  private Choreography() {}

  public static void main(String[] args) throws Exception {
    Path dir = args.length > 0 ? Path.of(args[0]) : Services.exampleDir("choreography");
    List<String> failures = run(dir, System.out);
    if (!failures.isEmpty()) {
      System.out.println("choreography: " + failures.size() + " check(s) FAILED");
      System.exit(1);
    }
    System.exit(0);
  }

  /**
   * Runs the choreography with the three services' configs under {@code dir} and returns the checks
   * that failed (none when all is well). Uses {@link Services#natsUrl()} and {@link Services#pgUrl()};
   * everything it creates (schemas, stream) is named after a random run id and removed at the end.
   */
  public static List<String> run(Path dir, PrintStream out) throws Exception {
    String natsUrl = Services.natsUrl();
    String pgUrl = Services.pgUrl();
    String run = Services.runId();
    RunNamespace ns = new RunNamespace("choreo", run);
    String ordersSchema = "choreo_orders_" + run;
    String inventorySchema = "choreo_inventory_" + run;
    String notifySchema = "choreo_notify_" + run;
    String ordersDb = Services.inSchema(pgUrl, ordersSchema);
    String inventoryDb = Services.inSchema(pgUrl, inventorySchema);
    String notifyDb = Services.inSchema(pgUrl, notifySchema);
    Checks checks = new Checks(out);
    Services.preflight(natsUrl, pgUrl);

    out.println("choreography: run " + run + " — NATS " + natsUrl + ", stream " + ns.stream() + ", subjects "
        + ns.prefix() + ".fraiseql.>, schemas " + ordersSchema + " / " + inventorySchema + " / " + notifySchema);
    out.println("(every subject of the three fraiseql.toml files is prefixed with " + ns.prefix()
        + ". so that runs never see each other's messages)\n");

    Journal inventoryJournal = new Journal();
    Journal notifyJournal = new Journal();
    ObserverEngine orders = null;
    PgOutboxRelay ordersRelay = null;
    Published published = new Published();
    ObserverEngine inventory = null;
    ObserverEngine notifications = null;
    GreenMail mail = null;
    FlakySmtpRelay relay = null;
    try {
      createSchema(pgUrl, ordersSchema, dir.resolve("order-service/schema.sql"));
      createSchema(pgUrl, inventorySchema, dir.resolve("inventory-service/schema.sql"));
      createSchema(pgUrl, notifySchema, null);
      try (java.sql.Connection c = Services.connect(inventoryDb);
           PreparedStatement st = c.prepareStatement("INSERT INTO tb_fault_injection (order_id) VALUES (?)")) {
        st.setString(1, FLAKY_RESERVATION);
        st.executeUpdate();
      }

      // a real SMTP server for the notification service, behind a relay that greylists one recipient once
      mail = new GreenMail(new ServerSetup(0, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
      mail.start();
      String flakyRecipient = ORDERS.stream().filter(o -> o.id().equals(FLAKY_EMAIL)).findFirst().orElseThrow().email();
      relay = new FlakySmtpRelay("127.0.0.1", mail.getSmtp().getPort(), flakyRecipient,
          line -> out.println("  [mail-server] " + line));

      Map<String, String> env = Map.of("NATS_URL", natsUrl, "SMTP_URL", "smtp://127.0.0.1:" + relay.port());
      Function<String, Optional<String>> lookup = name -> Optional.ofNullable(env.get(name));

      out.println("-- starting the three services (one ObserverEngine each, each with its own fraiseql.toml)");
      orders = ObserverEngine.builder().env(lookup).listener(published)
          .config(ns.apply(ObserversConfig.load(dir.resolve("order-service/fraiseql.toml"), lookup))).build();
      // installs the capture triggers its fraiseql.toml asks for (capture = "triggers"), then relays the outbox
      ordersRelay = PgOutboxRelay.builder(orders, Services.dataSource(ordersDb)).pollInterval(Duration.ofMillis(200))
          .start();
      inventory = ObserverEngine.builder().env(lookup).component(DataSource.class, Services.dataSource(inventoryDb))
          .listener(inventoryJournal.tagged("inventory-service", out))
          .config(ns.apply(ObserversConfig.load(dir.resolve("inventory-service/fraiseql.toml"), lookup))).build();
      notifications = ObserverEngine.builder().env(lookup).component(DataSource.class, Services.dataSource(notifyDb))
          .listener(notifyJournal.tagged("notification-service", out))
          .config(ns.apply(ObserversConfig.load(dir.resolve("notification-service/fraiseql.toml"), lookup))).build();

      out.println("\n-- order-service: placing " + ORDERS.size() + " orders (each its own transaction: plain SQL,"
          + " no publish call; the capture trigger records it, the relay publishes it)");
      Map<String, ObservedEvent> events = new LinkedHashMap<>();
      try (java.sql.Connection c = Services.connect(ordersDb)) {
        c.setAutoCommit(false);
        for (Order o : ORDERS) {
          // the request's context, as SET LOCAL fraiseql.user_id = ... would set it (one round trip)
          PgMutationContext.set(c, "createOrder", MutationContext.builder()
              .userId("u-" + o.email().substring(0, o.email().indexOf('@'))).tenantId("shop").requestId("req_" + o.id())
              .build());
          insertOrder(c, o);
          c.commit();
          Published.Entry e = published.await(o.id(), Duration.ofSeconds(20));
          events.put(o.id(), e.event());
          out.printf("  [order-service] committed %s (%s, %s, total %s) → %s%n", o.id(), o.email(), o.items(), o.total(),
              describe(e.outcomes()));
        }
      }

      // deliver the duplicate once both subscribers have processed the original: a redelivery after
      // success, which effectively_once must skip
      await(SETTLE, () -> inventoryJournal.delivered(events.get(DUPLICATED)) && notifyJournal.delivered(events.get(DUPLICATED)));
      out.println("\n-- fault injection: order " + DUPLICATED + " is delivered twice");
      List<DeliveryOutcome> again = orders.onCommit(events.get(DUPLICATED)).completion().toCompletableFuture()
          .get(20, TimeUnit.SECONDS);
      out.println("  [order-service] the same captured event dispatched again (as a relay does after a crash) → "
          + describe(again) + " (JetStream de-duplicates it by its Nats-Msg-Id)");
      try (Connection nc = RunNamespace.connect(natsUrl)) {
        Headers h = new Headers().add("Nats-Msg-Id", events.get(DUPLICATED).id() + ":republished");
        PublishAck ack = nc.jetStream().publish(ns.subject("fraiseql.order.created"), h,
            events.get(DUPLICATED).toJson());
        out.println("  [fault-injector] the same event stored again under another message id (as a producer retrying "
            + "after the de-duplication window would) → stream seq " + ack.getSeqno()
            + ": both subscribers will receive " + DUPLICATED + " twice");
      }

      out.println("\n-- waiting for the subscribers (inventory-service, notification-service) to settle");
      GreenMail mailServer = mail;
      boolean settled = await(SETTLE, () -> reservedOrders(inventoryDb) == ORDERS.size()
          && mailbox(mailServer).size() == ORDERS.size()
          && inventoryJournal.sawDuplicateOf(events.get(DUPLICATED))
          && notifyJournal.sawDuplicateOf(events.get(DUPLICATED)));
      List<String> durables = new ArrayList<>();
      inventory.config().subscriptions().stream().map(SubscriptionConfig::durable).forEach(durables::add);
      notifications.config().subscriptions().stream().map(SubscriptionConfig::durable).forEach(durables::add);
      boolean consumed = ns.awaitConsumed(natsUrl, durables, Duration.ofSeconds(15));
      if (!settled) {
        checks.fail("the subscribers did not settle within " + SETTLE.toSeconds() + " s");
      }

      printOrders(ordersDb, out);
      Map<String, Map<String, Integer>> reservations = printReservations(inventoryDb, out);
      out.println("\nnotifications (the mailbox of the SMTP server):");
      List<Mail> inbox = mailbox(mail);
      for (Mail m : inbox) {
        out.printf("  to %-18s \"%s\"  %s%n", m.to(), m.subject(), m.messageId());
      }
      out.println("\nchecks:");
      checks.check(consumed, "both subscriptions acknowledged every message of the stream (" + ns.messages(natsUrl)
          + " stored: " + ORDERS.size() + " orders + 1 re-published duplicate)", "messages still pending or unacked");
      checks.check(ns.messages(natsUrl) == ORDERS.size() + 1,
          "re-committing " + DUPLICATED + " on order-service stored nothing new (JetStream de-duplication)",
          "stream holds " + ns.messages(natsUrl) + " messages, expected " + (ORDERS.size() + 1));
      for (Order o : ORDERS) {
        Map<String, Integer> got = reservations.getOrDefault(o.id(), Map.of());
        checks.check(got.equals(o.items()), "order " + o.id() + " reserved exactly once " + o.items(),
            "reserved " + got);
        long sent = inbox.stream().filter(m -> m.subject().equals("Your order " + o.id() + " is confirmed")).count();
        boolean rightRecipient = inbox.stream().filter(m -> m.subject().equals("Your order " + o.id() + " is confirmed"))
            .allMatch(m -> m.to().equals(o.email()));
        checks.check(sent == 1 && rightRecipient, "order " + o.id() + " notified exactly once (to " + o.email() + ")",
            sent + " email(s) in the mailbox");
      }
      Map<String, Integer> expectedStock = new LinkedHashMap<>();
      ORDERS.forEach(o -> o.items().forEach((sku, q) -> expectedStock.merge(sku, q, Integer::sum)));
      Map<String, Integer> stock = reservedStock(inventoryDb);
      checks.check(stock.equals(expectedStock), "stock reserved per SKU is the sum of the orders " + expectedStock,
          "tb_stock.reserved is " + stock);
      checks.check(inventoryJournal.sawDuplicateOf(events.get(DUPLICATED)),
          "duplicate delivery of " + DUPLICATED + " reached inventory-service and was skipped (effectively_once)",
          "no duplicate seen: " + inventoryJournal.lines(events.get(DUPLICATED)));
      checks.check(notifyJournal.sawDuplicateOf(events.get(DUPLICATED)),
          "duplicate delivery of " + DUPLICATED + " reached notification-service and was skipped (effectively_once)",
          "no duplicate seen: " + notifyJournal.lines(events.get(DUPLICATED)));
      checks.check(inventoryJournal.retriedThenDelivered(events.get(FLAKY_RESERVATION)),
          "transient failure: fn_reserve_inventory failed once for " + FLAKY_RESERVATION
              + " (SQLSTATE 40001), was redelivered and succeeded",
          "attempts: " + inventoryJournal.lines(events.get(FLAKY_RESERVATION)));
      checks.check(notifyJournal.retriedThenDelivered(events.get(FLAKY_EMAIL)) && relay.injected(),
          "transient failure: the mail server answered 451 once to " + FLAKY_EMAIL + "'s recipient, the email was sent again and accepted",
          "451 given: " + relay.injected() + "; attempts: " + notifyJournal.lines(events.get(FLAKY_EMAIL)));
      List<String> mailProblems = mailProblems(inbox, events);
      checks.check(inbox.size() == ORDERS.size() && mailProblems.isEmpty(),
          "the mailbox holds " + ORDERS.size() + " confirmation emails over SMTP, each with its rendered subject, text and "
              + "HTML bodies and Message-ID <event id>.send-order-confirmation@shop.example",
          inbox.size() + " messages; " + mailProblems);
      long captured = count(ordersDb, "observer_outbox WHERE event::text LIKE '{\"capture\":%'");
      checks.check(captured == ORDERS.size() && count(ordersDb, "observer_outbox") == ORDERS.size(),
          "order-service made no publish call: its capture trigger recorded each of the " + ORDERS.size()
              + " orders in its outbox (" + ordersSchema + ".observer_outbox), in the order's own transaction",
          captured + " captured outbox rows");
      long inventoryKeys = count(inventoryDb, "observer_idempotency_keys");
      long notifyKeys = count(notifyDb, "observer_idempotency_keys");
      checks.check(inventoryKeys == ORDERS.size() && notifyKeys == ORDERS.size(),
          "each service recorded one idempotency key per order in its own database (" + inventorySchema + ", "
              + notifySchema + ".observer_idempotency_keys)",
          inventoryKeys + " and " + notifyKeys + " keys");
      List<DeadLetter> dead = new ArrayList<>(inventory.deadLetters().list());
      dead.addAll(notifications.deadLetters().list());
      dead.addAll(orders.deadLetters().list());
      checks.check(dead.isEmpty(), "no dead letters in any service", dead.toString());
    } finally {
      if (ordersRelay != null) {
        ordersRelay.close();
      }
      for (ObserverEngine e : new ObserverEngine[] {notifications, inventory, orders}) {
        if (e != null) {
          e.close();
        }
      }
      if (relay != null) {
        relay.close();
      }
      if (mail != null) {
        mail.stop();
      }
      String problem = ns.deleteStream(natsUrl);
      if (problem != null) {
        out.println("cleanup: " + problem);
      }
      for (String schema : List.of(ordersSchema, inventorySchema, notifySchema)) {
        Services.dropSchema(pgUrl, schema, out);
      }
    }
    List<String> failures = checks.failures();
    out.println(failures.isEmpty()
        ? "\nchoreography: all checks passed (" + ORDERS.size() + " orders reserved once and notified once, "
            + "1 duplicate delivery skipped by each subscriber, 2 transient failures retried)"
        : "\nchoreography: " + failures.size() + " check(s) failed: " + failures);
    return failures;
  }

  // -----------------------------------------------------------------------------------------------
  // the order service's write path

  /** A plain INSERT: nothing else. The capture trigger on tb_order records the event in this transaction. */
  private static void insertOrder(java.sql.Connection c, Order o) throws Exception {
    List<Map<String, Object>> items = new ArrayList<>();
    o.items().forEach((sku, qty) -> items.add(Map.of("sku", sku, "qty", qty)));
    try (PreparedStatement st = c.prepareStatement("INSERT INTO tb_order (id, customer_email, items, total) "
        + "VALUES (?, ?, ?::jsonb, ?)")) {
      st.setString(1, o.id());
      st.setString(2, o.email());
      st.setString(3, JSON.writeValueAsString(items));
      st.setBigDecimal(4, o.total());
      st.executeUpdate();
    }
  }

  /** What the order service's engine published for each captured order (its only window on the relay). */
  static final class Published implements ObserverListener {
    record Entry(ObservedEvent event, List<DeliveryOutcome> outcomes) {}

    private final Map<String, Entry> byOrder = new java.util.concurrent.ConcurrentHashMap<>();

    @Override
    public void completed(ObservedEvent event, DeliveryOutcome outcome) {
      String id = event.newRow().map(r -> String.valueOf(r.get("id"))).orElse("");
      byOrder.putIfAbsent(id, new Entry(event, List.of(outcome)));
    }

    Entry await(String orderId, Duration timeout) throws InterruptedException {
      long end = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < end) {
        Entry e = byOrder.get(orderId);
        if (e != null) {
          return e;
        }
        Thread.sleep(10);
      }
      throw new IllegalStateException("order " + orderId + " was committed but not published within "
          + timeout.toSeconds() + " s: is the capture trigger installed on tb_order?");
    }
  }

  // -----------------------------------------------------------------------------------------------
  // setup and reporting

  private static void createSchema(String pgUrl, String schema, Path sqlFile) throws Exception {
    try (java.sql.Connection c = Services.connect(pgUrl); Statement st = c.createStatement()) {
      st.execute("CREATE SCHEMA " + schema);
      if (sqlFile != null) {
        st.execute("SET search_path TO " + schema);
        st.execute(Files.readString(sqlFile));
      }
    }
  }

  private static void printOrders(String ordersDb, PrintStream out) throws Exception {
    out.println("\norders (order-service, tb_order):");
    try (java.sql.Connection c = Services.connect(ordersDb); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT id, customer_email, items::text, total, status FROM tb_order ORDER BY id")) {
      while (rs.next()) {
        out.printf("  %-7s %-18s %-48s %7s  %s%n", rs.getString(1), rs.getString(2), rs.getString(3), rs.getBigDecimal(4),
            rs.getString(5));
      }
    }
  }

  private static Map<String, Map<String, Integer>> printReservations(String inventoryDb, PrintStream out) throws Exception {
    Map<String, Map<String, Integer>> byOrder = new LinkedHashMap<>();
    out.println("\nreservations (inventory-service, tb_reservation, written by fn_reserve_inventory):");
    try (java.sql.Connection c = Services.connect(inventoryDb); Statement st = c.createStatement()) {
      try (ResultSet rs = st.executeQuery("SELECT order_id, sku, quantity, event_id FROM tb_reservation "
          + "ORDER BY order_id, pk_reservation")) {
        while (rs.next()) {
          out.printf("  %-7s %-10s ×%d  (event %s)%n", rs.getString(1), rs.getString(2), rs.getInt(3), rs.getString(4));
          byOrder.computeIfAbsent(rs.getString(1), k -> new LinkedHashMap<>()).merge(rs.getString(2), rs.getInt(3), Integer::sum);
        }
      }
      out.println("stock (tb_stock):");
      try (ResultSet rs = st.executeQuery("SELECT sku, on_hand, reserved FROM tb_stock ORDER BY sku")) {
        while (rs.next()) {
          out.printf("  %-10s on hand %2d, reserved %2d%n", rs.getString(1), rs.getInt(2), rs.getInt(3));
        }
      }
      try (ResultSet rs = st.executeQuery("SELECT count(*) FROM observer_idempotency_keys")) {
        rs.next();
        out.println("idempotency keys recorded (observer_idempotency_keys): " + rs.getLong(1));
      }
    }
    // a reservation counted twice shows up as a doubled quantity, which the checks catch
    Map<String, Map<String, Integer>> counted = new LinkedHashMap<>();
    try (java.sql.Connection c = Services.connect(inventoryDb); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT order_id, sku, sum(quantity) FROM tb_reservation GROUP BY order_id, sku "
             + "ORDER BY order_id, sku")) {
      while (rs.next()) {
        counted.computeIfAbsent(rs.getString(1), k -> new LinkedHashMap<>()).put(rs.getString(2), rs.getInt(3));
      }
    }
    return counted;
  }

  private static Map<String, Integer> reservedStock(String inventoryDb) throws Exception {
    Map<String, Integer> out = new LinkedHashMap<>();
    try (java.sql.Connection c = Services.connect(inventoryDb); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT sku, reserved FROM tb_stock WHERE reserved > 0 ORDER BY sku")) {
      while (rs.next()) {
        out.put(rs.getString(1), rs.getInt(2));
      }
    }
    return out;
  }

  private static long count(String db, String table) {
    try (java.sql.Connection c = Services.connect(db); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT count(*) FROM " + table)) {
      rs.next();
      return rs.getLong(1);
    } catch (java.sql.SQLException e) {
      return -1;
    }
  }

  private static int reservedOrders(String inventoryDb) {
    try (java.sql.Connection c = Services.connect(inventoryDb); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT count(DISTINCT order_id) FROM tb_reservation")) {
      rs.next();
      return rs.getInt(1);
    } catch (java.sql.SQLException e) {
      return -1;
    }
  }

  /** One message as the SMTP server stored it. */
  record Mail(String to, String subject, String messageId, String text, String html) {}

  /** The SMTP server's messages, read back from the server (MIME parsed). */
  static List<Mail> mailbox(GreenMail mail) {
    List<Mail> out = new ArrayList<>();
    try {
      for (MimeMessage m : mail.getReceivedMessages()) {
        String text = "";
        String html = "";
        if (m.getContent() instanceof Multipart) {
          Multipart parts = (Multipart) m.getContent();
          for (int i = 0; i < parts.getCount(); i++) {
            String body = String.valueOf(parts.getBodyPart(i).getContent());
            if (parts.getBodyPart(i).isMimeType("text/html")) {
              html = body;
            } else {
              text = body;
            }
          }
        }
        out.add(new Mail(String.valueOf(m.getRecipients(Message.RecipientType.TO)[0]), m.getSubject(),
            m.getMessageID(), text, html));
      }
    } catch (Exception e) {
      out.add(new Mail("", "unreadable: " + e, "", "", ""));
    }
    return out;
  }

  /** What is wrong with the mailbox: a body not rendered, a Message-ID not derived from the event. */
  private static List<String> mailProblems(List<Mail> inbox, Map<String, ObservedEvent> events) {
    List<String> problems = new ArrayList<>();
    for (Order o : ORDERS) {
      String id = "<" + events.get(o.id()).id() + ".send-order-confirmation@shop.example>";
      for (Mail m : inbox) {
        if (!m.subject().equals("Your order " + o.id() + " is confirmed")) {
          continue;
        }
        if (!m.messageId().equals(id)) {
          problems.add(o.id() + ": Message-ID " + m.messageId() + ", expected " + id);
        }
        String firstItem = o.items().entrySet().iterator().next().getValue() + " x " + o.items().keySet().iterator().next();
        if (!m.text().contains("Thank you for your order " + o.id()) || !m.text().contains(firstItem)
            || !m.text().contains("Total: " + o.total().toPlainString())) {
          problems.add(o.id() + ": text body " + m.text().strip().replace("\r\n", " / "));
        }
        if (!m.html().contains("<b>" + o.id() + "</b>") || !m.html().contains("<li>" + firstItem + "</li>")) {
          problems.add(o.id() + ": html body " + m.html().strip());
        }
      }
    }
    return problems;
  }

  private static String describe(List<DeliveryOutcome> outcomes) {
    List<String> parts = new ArrayList<>();
    for (DeliveryOutcome o : outcomes) {
      parts.add(o.handler() + ": " + o.status() + " (" + o.detail() + ")");
    }
    return parts.isEmpty() ? "no rule matched" : String.join(", ", parts);
  }

  static String field(String json, String name) {
    try {
      JsonNode n = JSON.readTree(json).get(name);
      return n == null ? "" : n.asText();
    } catch (Exception e) {
      return "";
    }
  }

  private static Map<String, Integer> items(Object... kv) {
    Map<String, Integer> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], (Integer) kv[i + 1]);
    }
    return m;
  }

  private static boolean await(Duration timeout, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return true;
      }
      Thread.sleep(100);
    }
    return condition.getAsBoolean();
  }

  /** What one subscriber's engine did with each event: attempts, results, duplicates skipped. */
  static final class Journal {
    private final List<String[]> entries = new CopyOnWriteArrayList<>();

    ObserverListener tagged(String service, PrintStream out) {
      return new ObserverListener() {
        @Override
        public void attemptFinished(ObservedEvent event, String handler, int attempt, ActionResult result, Duration elapsed) {
          String kind = result.isDelivered() ? ("duplicate".equals(result.detail()) ? "duplicate" : "delivered")
              : result instanceof ActionResult.Failed ? "failed" : "retry";
          entries.add(new String[] {event.id().toString(), kind, Integer.toString(attempt), result.detail()});
          out.printf("  [%s] %s ← %s (delivery %d): %s%s%n", service, handler, orderId(event), attempt,
              kind.equals("duplicate") ? "already processed, skipped (effectively_once)" : kind, 
              result.detail().isEmpty() || kind.equals("duplicate") ? "" : " — " + result.detail());
        }

        @Override
        public void duplicateSkipped(ObservedEvent event, String handler) {
          entries.add(new String[] {event.id().toString(), "duplicate", "", ""});
          out.printf("  [%s] %s ← %s: already processed, skipped (effectively_once)%n", service, handler, orderId(event));
        }
      };
    }

    boolean sawDuplicateOf(ObservedEvent event) {
      return entries.stream().anyMatch(e -> e[0].equals(event.id().toString()) && e[1].equals("duplicate"));
    }

    boolean delivered(ObservedEvent event) {
      return entries.stream().anyMatch(e -> e[0].equals(event.id().toString()) && e[1].equals("delivered"));
    }

    boolean retriedThenDelivered(ObservedEvent event) {
      List<String> kinds = entries.stream().filter(e -> e[0].equals(event.id().toString())).map(e -> e[1]).toList();
      int firstRetry = kinds.indexOf("retry");
      return firstRetry >= 0 && kinds.subList(firstRetry, kinds.size()).contains("delivered")
          && kinds.stream().filter("delivered"::equals).count() == 1;
    }

    List<String> lines(ObservedEvent event) {
      return entries.stream().filter(e -> e[0].equals(event.id().toString()))
          .map(e -> e[1] + (e[2].isEmpty() ? "" : "#" + e[2]) + (e[3].isEmpty() ? "" : " " + e[3])).toList();
    }

    private static String orderId(ObservedEvent event) {
      return event.newRow().map(r -> String.valueOf(r.get("id"))).orElse(event.id().toString());
    }
  }
}
